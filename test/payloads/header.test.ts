import { describe, expect, it } from 'vitest';
import { FileRefusedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import type { Catalogue } from '../../lambda/types.ts';

const catalogue = standardCatalogue();
const resolve = (cells: string[], mapping: Record<string, string> = {}, cat: Catalogue = catalogue) =>
  resolveHeader(cells, { mapping, catalogue: cat });

function refusal(cells: string[], mapping: Record<string, string> = {}, cat: Catalogue = catalogue): FileRefusedError {
  try {
    resolve(cells, mapping, cat);
  } catch (e) {
    expect(e).toBeInstanceOf(FileRefusedError);
    return e as FileRefusedError;
  }
  throw new Error('expected the header to be refused');
}

describe('resolveHeader: matching', () => {
  it('matches codes case-insensitively after trimming, strips a BOM, keeps the header as written', () => {
    const cols = resolve(['\uFEFFid', ' Title ', 'last_name']);
    expect(cols.map((c) => [c.index, c.header, c.code])).toEqual([
      [0, 'id', 'ID'],
      [1, 'Title', 'TITLE'],
      [2, 'last_name', 'LAST_NAME'],
    ]);
    expect(cols[1].spec.type).toBe('string');
  });

  it('reads multifield columns: bare name is WORK, suffix names the VALUE_TYPE', () => {
    const cols = resolve(['ID', 'PHONE', 'phone_mobile', 'EMAIL_HOME', 'WEB', 'IM_TELEGRAM', 'IM', 'Email_Other']);
    expect(cols.slice(1).map((c) => `${c.code}:${c.valueType}`)).toEqual([
      'PHONE:WORK',
      'PHONE:MOBILE',
      'EMAIL:HOME',
      'WEB:WORK',
      'IM:TELEGRAM',
      'IM:OTHER',
      'EMAIL:OTHER',
    ]);
    // LINK (and IM_OPENLINE, IM_IMOL) hold Open Channel bindings: refused, see openChannel.test.ts.
    expect(refusal(['ID', 'LINK_USER']).code).toBe('READ_ONLY_COLUMN');
  });

  it('accepts any UF_CRM_* offline as a string field', () => {
    const cols = resolve(['ID', 'uf_crm_1700000000', 'UF_CRM_LEAD_SCORE']);
    expect(cols[1]).toMatchObject({ code: 'UF_CRM_1700000000', spec: { type: 'string' } });
    expect(cols[2].code).toBe('UF_CRM_LEAD_SCORE');
  });

  it('ignores empty header cells (Excel trailing delimiters)', () => {
    const cols = resolve(['ID', '', 'TITLE', ' ', '']);
    expect(cols.map((c) => c.index)).toEqual([0, 2]);
  });

  it('with a portal catalogue, accepts only its UF fields and their labels', () => {
    const cat = standardCatalogue();
    cat.fromPortal = true;
    cat.fields.set('UF_CRM_5', { code: 'UF_CRM_5', type: 'string', labels: ['Lead score', 'Score'] });
    expect(resolve(['ID', 'UF_CRM_5'], {}, cat)[1].code).toBe('UF_CRM_5');
    expect(resolve(['ID', ' lead SCORE '], {}, cat)[1]).toMatchObject({ code: 'UF_CRM_5', header: 'lead SCORE' });
    const e = refusal(['ID', 'UF_CRM_9'], {}, cat);
    expect(e.code).toBe('UNKNOWN_COLUMN');
    expect(e.message).toMatch(/"UF_CRM_9" \(column \d+\)/);
    expect(e.message).toContain('did you mean UF_CRM_5?');
  });
});

describe('resolveHeader: mapping', () => {
  it('applies the mapping first, keys case-insensitive after trim', () => {
    const cols = resolve(['Lead ID', 'Phone number', 'Company'], {
      ' lead id ': 'ID',
      'PHONE NUMBER': 'PHONE_MOBILE',
      Company: 'company_title',
    });
    expect(cols.map((c) => [c.header, c.code, c.valueType])).toEqual([
      ['Lead ID', 'ID', undefined],
      ['Phone number', 'PHONE', 'MOBILE'],
      ['Company', 'COMPANY_TITLE', undefined],
    ]);
  });

  it('refuses a mapping to an unknown code, with a suggestion', () => {
    const e = refusal(['ID', 'Phone number'], { 'Phone number': 'PHONE_MOBLIE' });
    expect(e.code).toBe('UNKNOWN_COLUMN');
    expect(e.message).toContain('mapping "Phone number" → "PHONE_MOBLIE"');
    expect(e.message).toContain('did you mean PHONE_MOBILE?');
  });

  it('refuses an unknown mapping target even when the column is absent', () => {
    expect(refusal(['ID'], { Foo: 'NOPE_NOT_A_FIELD' }).code).toBe('UNKNOWN_COLUMN');
  });

  it('a mapped column that lands on a field already named is a duplicate', () => {
    const e = refusal(['ID', 'TITLE', 'Deal name'], { 'Deal name': 'TITLE' });
    expect(e.code).toBe('DUPLICATE_COLUMN');
    expect(e.message).toContain('"Deal name"');
  });
});

describe('resolveHeader: refusals', () => {
  it('UNKNOWN_COLUMN names the column and suggests the closest field', () => {
    const e = refusal(['ID', 'TITEL']);
    expect(e.code).toBe('UNKNOWN_COLUMN');
    expect(e.message).toMatch(/\n {2}"TITEL" \(column \d+\): did you mean TITLE\?/);
  });

  it('suggests nothing for a name far from every field', () => {
    const e = refusal(['ID', 'Favourite colour']);
    expect(e.message).toMatch(/\n {2}"Favourite colour" \(column 2\)$/);
    expect(e.message).not.toContain('did you mean');
  });

  it('an unknown VALUE_TYPE lists the valid ones', () => {
    const e = refusal(['ID', 'PHONE_CELL', 'EMAIL_WROK']);
    expect(e.code).toBe('UNKNOWN_COLUMN');
    expect(e.message).toContain(
      '"PHONE_CELL" (column 2): did you mean PHONE_MOBILE? PHONE value types: WORK, MOBILE, FAX, HOME, PAGER, MAILING, OTHER\n',
    );
    expect(e.message).toMatch(/"EMAIL_WROK" \(column \d+\): did you mean EMAIL_WORK\?/);
    expect(refusal(['ID', 'IM_WORK']).message).toContain(
      'IM value types: FACEBOOK, TELEGRAM, VK, SKYPE, VIBER, INSTAGRAM, BITRIX24, ICQ, MSN, JABBER, OTHER',
    );
    expect(refusal(['ID', 'LINK_WORK']).message).toContain('"LINK_WORK" (column 2): Open Channel bindings are system data');
  });

  it('refuses UF columns that do not look like UF_CRM_ codes offline', () => {
    expect(refusal(['ID', 'UF_CRM_']).code).toBe('UNKNOWN_COLUMN');
    expect(refusal(['ID', 'UF_CRM_a-b']).code).toBe('UNKNOWN_COLUMN');
  });

  it('DUPLICATE_COLUMN for the same code, and for PHONE vs PHONE_WORK', () => {
    const e = refusal(['ID', 'TITLE', 'title']);
    expect(e.code).toBe('DUPLICATE_COLUMN');
    expect(e.message).toMatch(/duplicate columns[^\n]*\n {2}"title" \(column \d+\)/);
    const m = refusal(['ID', 'PHONE', 'PHONE_WORK']);
    expect(m.code).toBe('DUPLICATE_COLUMN');
    expect(m.message).toContain('"PHONE_WORK"');
    expect(m.message).toContain('"PHONE"');
    expect(refusal(['ID', 'id']).code).toBe('DUPLICATE_COLUMN');
  });

  it('different VALUE_TYPEs of one multifield are not duplicates', () => {
    expect(resolve(['ID', 'PHONE_WORK', 'PHONE_MOBILE', 'PHONE_HOME'])).toHaveLength(4);
  });

  it('READ_ONLY_COLUMN for every read-only field, ID is fine', () => {
    const e = refusal(['ID', 'DATE_CREATE', 'TITLE', 'HAS_PHONE', 'IS_RETURN_CUSTOMER']);
    expect(e.code).toBe('READ_ONLY_COLUMN');
    for (const c of ['DATE_CREATE', 'HAS_PHONE', 'IS_RETURN_CUSTOMER'])
      expect(e.message).toMatch(new RegExp(`\\n  "${c}" \\(column \\d\\)\\n|$`));
    expect(e.message).not.toContain('"TITLE"');
  });

  it('MISSING_ID_COLUMN when no column is ID (also for an empty header)', () => {
    const e = refusal(['TITLE', 'NAME']);
    expect(e.code).toBe('MISSING_ID_COLUMN');
    expect(e.message).toContain('ID');
    expect(refusal(['', '']).code).toBe('MISSING_ID_COLUMN');
  });

  it('several problems: one refusal, the most important code, every problem in the message', () => {
    const e = refusal(['TITEL', 'DATE_MODIFY', 'NAME', 'name']);
    expect(e.code).toBe('MISSING_ID_COLUMN');
    expect(e.message).toMatch(/\n {2}"TITEL" \(column \d+\): did you mean TITLE\?/);
    expect(e.message).toMatch(/read-only columns[^\n]*\n {2}"DATE_MODIFY" \(column \d+\)/);
    expect(e.message).toMatch(/\n {2}"name" \(column 4\): NAME is already set by "NAME", column 3/);
    expect(e.message).toContain('no ID column');
    const u = refusal(['ID', 'NAEM', 'DATE_MODIFY', 'NAME', 'NAME']);
    expect(u.code).toBe('UNKNOWN_COLUMN');
    expect(refusal(['ID', 'DATE_MODIFY', 'NAME', 'NAME']).code).toBe('READ_ONLY_COLUMN');
  });
});

describe('resolveHeader: the ID column', () => {
  it('resolves ID even when a portal catalogue leaves it out', () => {
    const cat: Catalogue = { fields: new Map([['TITLE', { code: 'TITLE', type: 'string' }]]), fromPortal: true };
    expect(resolve(['id', 'TITLE'], {}, cat).map((c) => c.code)).toEqual(['ID', 'TITLE']);
  });
});

describe('resolveHeader: suggestions', () => {
  it.each([
    ['NAEM', 'NAME'],
    ['COMAPNY_ID', 'COMPANY_ID'],
    ['ASIGNED_BY_ID', 'ASSIGNED_BY_ID'],
    ['Oportunity', 'OPPORTUNITY'],
    ['Surname', 'LAST_NAME'],
    ['Birthday', 'BIRTHDATE'],
    ['STAUS_ID', 'STATUS_ID'],
  ])('%s → did you mean %s?', (typo, code) => {
    expect(refusal(['ID', typo]).message).toContain(`"${typo}" (column 2): did you mean ${code}?`);
  });

  it('does not suggest a custom field that only shares the UF_CRM_ prefix', () => {
    const cat = standardCatalogue();
    cat.fromPortal = true;
    cat.fields.set('UF_CRM_TIER', { code: 'UF_CRM_TIER', type: 'string' });
    const e = refusal(['ID', 'UF_CRM_OTHER'], {}, cat);
    expect(e.message).toBe(
      'header refused: 1 problem\nunknown columns (not crm.lead.update fields: fix the name, map it in the mapping file, or remove the column; --ignore-unknown skips unknown and read-only columns):\n  "UF_CRM_OTHER" (column 2): no such custom field on the portal',
    );
    expect(refusal(['ID', 'UF_CRM_TEIR'], {}, cat).message).toContain('did you mean UF_CRM_TIER?');
  });
});
