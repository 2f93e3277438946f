import { describe, expect, it } from 'vitest';
import { buildCatalogue, type PortalFieldDescription } from '../../lambda/calls/preflight.ts';
import { FileRefusedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { type HeaderOptions, readHeader } from '../../lambda/payloads/header.ts';
import type { Catalogue } from '../../lambda/types.ts';
import { checker, valid } from '../support/payload.ts';
import { SAMPLE_COLUMNS, sampleHeader } from '../support/leadSample.ts';

const offline = (extra: Partial<HeaderOptions> = {}) => ({ mapping: {}, catalogue: standardCatalogue(), ...extra });

function refused(cells: string[], opts: Partial<HeaderOptions> = {}): FileRefusedError {
  try {
    readHeader(cells, offline(opts));
  } catch (e) {
    if (e instanceof FileRefusedError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/** Field code + VALUE_TYPE per column, as the header resolved it. */
const targets = (cells: string[], opts: Partial<HeaderOptions> = {}) =>
  readHeader(cells, offline(opts)).columns.map((c) => (c.valueType ? `${c.code}_${c.valueType}` : c.code));

describe("item 5: the server's VALUE_TYPEs, and Bitrix24's own import sample", () => {
  it.each(['WEB_FACEBOOK', 'IM_FACEBOOK', 'IM_INSTAGRAM', 'WEB_VK', 'IM_VK'])('%s is a column', (code) => {
    expect(targets(['ID', code])).toEqual(['ID', code]);
  });

  it.each(['ru', 'en'] as const)('the %s sample header imports with no mapping: every field column resolves to its field', (lang) => {
    const plan = readHeader(['ID', ...sampleHeader(lang).slice(1), ''], offline());
    const expected = SAMPLE_COLUMNS.map(([id]) => id).filter(
      (id) =>
        !['FULL_NAME', 'FULL_ADDRESS', 'PRODUCT_ID', 'PRODUCT_PRICE', 'PRODUCT_QUANTITY', 'IM_OPENLINE', 'IM_IMOL', 'LINK_USER'].includes(
          id,
        ),
    );
    expect(
      plan.columns.map((c) => (c.valueType && !['PHONE', 'EMAIL', 'WEB', 'IM'].includes(c.header) ? `${c.code}_${c.valueType}` : c.code)),
    ).toEqual(expected);
    // The columns no lead field holds are read past, named once in one warning.
    expect(plan.notices).toHaveLength(1);
    expect(plan.notices[0]).toMatch(/^8 columns skipped \(not written\): /);
    expect(plan.notices[0]).toContain('Open Channel bindings are never written');
    expect(plan.notices[0]).toContain("the lead's product rows are not lead fields");
  });

  it('a sample row becomes the update the portal gets (phones, e-mails, messengers by VALUE_TYPE)', () => {
    const header = sampleHeader('ru');
    const check = checker(header);
    const cells = SAMPLE_COLUMNS.map(
      ([id]) =>
        ({ ID: '7', TITLE: 'Веб-сервис', EMAIL_HOME: 'evgeny@yahoo.com', IM_INSTAGRAM: 'evgeny.n', WEB_FACEBOOK: 'fb.com/evgeny' })[id] ??
        '',
    );
    const row = valid(check(cells));
    expect(row.id).toBe(7);
    expect(row.fields).toEqual({
      TITLE: 'Веб-сервис',
      EMAIL: [{ VALUE: 'evgeny@yahoo.com', VALUE_TYPE: 'HOME' }],
      IM: [{ VALUE: 'evgeny.n', VALUE_TYPE: 'INSTAGRAM' }],
      WEB: [{ VALUE: 'fb.com/evgeny', VALUE_TYPE: 'FACEBOOK' }],
    });
  });
});

describe('item 9: the titles Bitrix24 writes are column names', () => {
  it.each([
    ['Рабочий телефон', 'PHONE_WORK'],
    ['Мобильный телефон', 'PHONE_MOBILE'],
    ['Рабочий e-mail', 'EMAIL_WORK'],
    ['Work Phone', 'PHONE_WORK'],
    ['Mobile', 'PHONE_MOBILE'],
    ['Status', 'STATUS_ID'],
    ['Статус', 'STATUS_ID'],
    ['Lead Name', 'TITLE'],
    ['Название лида', 'TITLE'],
    ['  название   ЛИДА ', 'TITLE'],
    ['Квартира, офис, комната, этаж', 'ADDRESS_2'],
    ['Ответственный', 'ASSIGNED_BY_ID'],
  ])('%j → %s, offline', (name, target) => {
    expect(targets(['ID', name])).toEqual(['ID', target]);
  });

  it("online, the portal's own titles of standard fields (its language) are names too, after the built-in ones", () => {
    const std = (type: string, title: string, extra: Partial<PortalFieldDescription> = {}): PortalFieldDescription => ({
      type,
      isRequired: false,
      isReadOnly: false,
      isImmutable: false,
      isMultiple: false,
      isDynamic: false,
      title,
      ...extra,
    });
    const catalogue: Catalogue = buildCatalogue(
      standardCatalogue(),
      {
        ID: std('integer', 'ID', { isReadOnly: true }),
        TITLE: std('string', 'Название'),
        SOURCE_DESCRIPTION: std('string', 'Дополнительно об источнике'),
        UTM_SOURCE: std('string', 'Рекламная система'),
        PHONE: std('crm_multifield', 'Телефон', { isMultiple: true }),
        DATE_CREATE: std('datetime', 'Дата создания', { isReadOnly: true }),
      },
      new Map(),
    );
    expect(targets(['ID', 'Название', 'рекламная система', 'Телефон'], { catalogue })).toEqual(['ID', 'TITLE', 'UTM_SOURCE', 'PHONE_WORK']);
    const e = refused(['ID', 'Дата создания'], { catalogue });
    expect(e.code).toBe('READ_ONLY_COLUMN');
    expect(e.message).toContain('"Дата создания" (column 2, DATE_CREATE)');
  });
});

describe('item 6: the header refusal lists every problem, grouped, one per line', () => {
  it('30 unknown columns, 2 read-only, a duplicate: every one listed, the boilerplate once per group', () => {
    const unknown = Array.from({ length: 30 }, (_, i) => `Extra ${i}`);
    const e = refused(['ID', ...unknown, 'Created', 'DATE_MODIFY', 'Title', 'TITLE']);
    expect(e.code).toBe('UNKNOWN_COLUMN');
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('header refused: 33 problems');
    expect(lines[1]).toMatch(/^unknown columns \(not crm\.lead\.update fields: fix the name, map it in the mapping file/);
    expect(lines.slice(2, 32)).toEqual(unknown.map((u, i) => `  "${u}" (column ${i + 2})`));
    expect(lines[32]).toMatch(/^read-only columns \(the portal sets them/);
    expect(lines.slice(33, 35)).toEqual(['  "Created" (column 32, DATE_CREATE)', '  "DATE_MODIFY" (column 33)']);
    expect(lines[35]).toMatch(/^duplicate columns/);
    expect(lines[36]).toBe('  "TITLE" (column 35): TITLE is already set by "Title", column 34');
    expect(lines).toHaveLength(37);
    expect(e.message).not.toContain('more problems');
    expect(e.message.match(/fix the name/g)).toHaveLength(1);
  });

  it('a title with commas in a ; file is a title: no delimiter is suggested', () => {
    const e = refused(['ID', 'Этаж, подъезд, домофон', 'NAME']);
    expect(e.message).not.toContain('delimiter');
    expect(e.message).toContain('  "Этаж, подъезд, домофон" (column 2)');
  });

  it('the whole header in one cell still names the delimiter it holds', () => {
    expect(refused(['ID;TITLE;NAME']).message).toContain("is that the file's delimiter? set --delimiter ;");
  });
});

describe('item 12: --ignore-unknown and "Column": null skip columns with one warning', () => {
  const header = ['ID', 'Lead Name', 'Created', 'Теги сделки', 'Contact owner', 'Responsible', 'Notes', 'Теги сделки'];

  it('refused without the flag', () => {
    expect(refused(header).code).toBe('UNKNOWN_COLUMN');
  });

  it('with the flag: unknown and read-only columns skipped, each named once, in one warning', () => {
    const plan = readHeader(header, offline({ ignoreUnknown: true, mapping: { notes: null } }));
    expect(plan.columns.map((c) => c.code)).toEqual(['ID', 'TITLE', 'ASSIGNED_BY_ID']);
    expect(plan.notices).toEqual([
      '5 columns skipped (not written): read-only: "Created" (column 3, DATE_CREATE); ' +
        'unknown: "Теги сделки" (columns 4, 8), "Contact owner" (column 5); mapped to null in the mapping file: "Notes" (column 7)',
    ]);
  });

  it('a null mapping alone skips the column without the flag', () => {
    const plan = readHeader(['ID', 'Tags'], offline({ mapping: { tags: null } }));
    expect(plan.columns.map((c) => c.code)).toEqual(['ID']);
    expect(plan.notices).toEqual(['1 column skipped (not written): mapped to null in the mapping file: "Tags" (column 2)']);
  });

  it('the flag does not hide a missing ID or a duplicate', () => {
    expect(refused(['TITLE', 'Foo'], { ignoreUnknown: true }).code).toBe('MISSING_ID_COLUMN');
    expect(refused(['ID', 'TITLE', 'Lead Name'], { ignoreUnknown: true }).code).toBe('DUPLICATE_COLUMN');
  });
});

describe('item 18: offline, the columns the portal would check are marked', () => {
  it('status and custom-field columns carry what could not be checked (a currency code is checked offline)', () => {
    const plan = readHeader(['ID', 'STATUS_ID', 'CURRENCY_ID', 'UF_CRM_5', 'TITLE'], offline());
    expect(plan.columns.map((c) => c.unchecked)).toEqual([
      undefined,
      'STATUS_ID code',
      undefined,
      'UF_CRM_5 (the field, its type and values)',
      undefined,
    ]);
  });

  it('online nothing is marked', () => {
    const catalogue = standardCatalogue();
    catalogue.fromPortal = true;
    expect(readHeader(['ID', 'STATUS_ID'], { mapping: {}, catalogue }).columns.every((c) => c.unchecked === undefined)).toBe(true);
  });
});

describe('the skipped-columns warning stays bounded', () => {
  it('20,000 unknown columns under --ignore-unknown: one warning of at most 6,000 characters', () => {
    const cells = ['ID', ...Array.from({ length: 20_000 }, (_, i) => `COL${i}`)];
    const [notice] = readHeader(cells, offline({ ignoreUnknown: true })).notices;
    expect(notice.startsWith('20000 columns skipped (not written): unknown: "COL0" (column 2)')).toBe(true);
    expect(notice.length).toBeLessThanOrEqual(6000);
  });
});
