import { describe, expect, it } from 'vitest';
import { FileRefusedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';

function refusal(cells: string[]): FileRefusedError {
  try {
    resolveHeader(cells, { mapping: {}, catalogue: standardCatalogue() });
  } catch (e) {
    if (e instanceof FileRefusedError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('refusal hints on real-world headers (offline catalogue)', () => {
  it.each([
    ['ASSIGNED_BY', 'ASSIGNED_BY_ID'],
    ['Contact', 'CONTACT_ID'],
    ['company', 'COMPANY_TITLE'],
    ['Source ID', 'SOURCE_ID'],
  ])('%s → did you mean %s?', (header, code) => {
    expect(refusal(['ID', header]).message).toContain(`"${header}" (column 2): did you mean ${code}?`);
  });

  it('a malformed UF_ code offline is explained as a bad code, not as missing from a portal nobody asked', () => {
    const m = refusal(['ID', 'UF_CRM_x-y', 'UF_LOYALTY']).message;
    expect(m).not.toContain('on the portal');
    expect(m).toContain('"UF_CRM_x-y" (column 2): custom field codes are UF_CRM_ followed by letters, digits and _');
    expect(m).toContain('"UF_LOYALTY" (column 3): custom field codes are UF_CRM_');
  });
});

describe('a header split on the wrong delimiter', () => {
  it.each([
    ['ID\tTITLE\tCOMMENTS', 'tab'],
    ['ID;TITLE;NAME', ';'],
    ['ID,TITLE', ','],
  ])('%j names the delimiter it holds', (cell, d) => {
    expect(refusal([cell]).message).toContain(`is that the file's delimiter? set --delimiter ${d}`);
  });
});
