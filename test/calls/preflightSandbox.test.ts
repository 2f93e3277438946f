import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../lambda/calls/client.ts';
import { loadCatalogue } from '../../lambda/calls/preflight.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { FileRefusedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import { compileRows } from '../../lambda/payloads/compile.ts';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import type { Catalogue, SourceRecord } from '../../lambda/types.ts';

// The sandbox listens on loopback over http: the client allows that only in the explicit local mode.
vi.stubEnv('B24_LOCAL_MODE', '1');

const options = parseRunOptions({});
let sb: Sandbox;
let catalogue: Catalogue;
let requestsForPreflight = 0;

beforeAll(async () => {
  sb = await startSandbox({
    rate: 1000,
    burst: 1000,
    userFields: [
      { code: 'UF_CRM_LOYALTY_CARD', type: 'string', label: 'Loyalty card' },
      { code: 'UF_CRM_SEGMENT', type: 'enumeration', label: 'Segment', items: ['Retail', 'Wholesale', 'Partner'] },
    ],
    statuses: {
      STATUS: [{ STATUS_ID: 'UC_NEGOTIATION', NAME: 'Negotiation' }],
      // 70 sources: crm.status.list pages at 50.
      SOURCE: Array.from({ length: 58 }, (_, i) => ({ STATUS_ID: `UC_SRC_${i}`, NAME: `Source ${i}` })),
    },
  });
  const api = createClient({ webhookUrl: sb.webhookUrl, limits: options.limits });
  catalogue = await loadCatalogue(api, standardCatalogue());
  requestsForPreflight = sb.stats().requests;
});
afterAll(() => sb.close());

function record(cells: string[], line = 2): SourceRecord {
  return { line, cells, raw: cells.join(','), start: 0, end: 0 };
}

describe('preflight against the sandbox portal', () => {
  it('costs two requests here: fields + first status pages, then the second SOURCE page', () => {
    expect(requestsForPreflight).toBe(2);
    expect(sb.stats().byMethod).toEqual({ batch: 2 });
    expect(catalogue.fields.get('SOURCE_ID')?.statusCodes).toHaveLength(12 + 58);
  });
  it('a header with an unknown UF_CRM_* column is refused before any write', () => {
    let err: unknown;
    try {
      resolveHeader(['ID', 'TITLE', 'UF_CRM_NOT_THERE'], { mapping: {}, catalogue });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileRefusedError);
    expect((err as FileRefusedError).code).toBe('UNKNOWN_COLUMN');
    expect(sb.ledger()).toHaveLength(0);
  });
  it('a label of an enumeration maps to its item ID, an unknown label is refused with the allowed values', () => {
    const header = ['ID', 'Segment', 'Loyalty card'];
    const columns = resolveHeader(header, { mapping: {}, catalogue });
    expect(columns.map((c) => c.code)).toEqual(['ID', 'UF_CRM_SEGMENT', 'UF_CRM_LOYALTY_CARD']);
    const check = compileRows(columns, options, catalogue, header.length);
    const ok = check(record(['5', 'wholesale', 'X-1']));
    const items = catalogue.fields.get('UF_CRM_SEGMENT')!.items!;
    expect(ok.ok && ok.row.fields.UF_CRM_SEGMENT).toBe(items.find((i) => i.VALUE === 'Wholesale')!.ID);
    const bad = check(record(['5', 'Platinum', '']));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.outcome.message).toMatch(/Retail/);
  });
  it('a custom stage validates; a code the portal does not have is invalid, naming the allowed codes', () => {
    const header = ['ID', 'STATUS_ID'];
    const columns = resolveHeader(header, { mapping: {}, catalogue });
    const check = compileRows(columns, options, catalogue, header.length);
    const ok = check(record(['5', 'UC_NEGOTIATION']));
    expect(ok.ok && ok.row.fields.STATUS_ID).toBe('UC_NEGOTIATION');
    const bad = check(record(['5', 'UC_MISSING']));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.outcome.message).toMatch(/UC_NEGOTIATION/);
  });
  it('read-only portal fields are refused as columns', () => {
    expect(() => resolveHeader(['ID', 'DATE_CREATE'], { mapping: {}, catalogue })).toThrow(/read-only/);
  });
});
