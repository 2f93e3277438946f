import { describe, expect, it } from 'vitest';
import { checker, invalid, valid } from '../support/payload.ts';

describe('the ID cell', () => {
  const check = checker(['ID', 'TITLE']);
  it('takes a strict positive integer up to 2147483647', () => {
    expect(valid(check(['1', 'x'])).id).toBe(1);
    expect(valid(check([' 2147483647 ', 'x'])).id).toBe(2147483647);
  });
  it.each([
    ['0', 'IDs are positive whole numbers'],
    ['-1', 'IDs are positive whole numbers'],
    ['1.5', 'IDs are whole numbers'],
    ['1,5', 'IDs are whole numbers'],
    ['99999999999', 'too large (the largest ID is 2147483647)'],
    ['2147483648', 'too large (the largest ID is 2147483647)'],
    ['12abc', 'not a number'],
    ['abc', 'not a number'],
    ['1e3', 'not a number'],
    ['0x10', 'not a number'],
  ])('refuses %s: INVALID_ID', (cell, why) => {
    const o = invalid(check([cell, 'x'], 7));
    expect(o.errorCode).toBe('INVALID_ID');
    expect(o.id).toBe(cell);
    expect(o.message).toBe(`line 7, ID: "${cell}" is not a lead ID: ${why}`);
  });
  it('refuses an empty ID and the clear marker on ID', () => {
    expect(invalid(check(['', 'x'], 3))).toMatchObject({ errorCode: 'INVALID_ID', message: 'line 3, ID: the ID is empty' });
    const m = invalid(check(['#N/A', 'x'], 3));
    expect(m.errorCode).toBe('INVALID_ID');
    expect(m.message).toContain('the ID cannot be cleared');
  });
  it('cuts a huge ID cell in the report id column (the raw row stays whole for rejected.csv)', () => {
    const o = invalid(check(['9'.repeat(100_000), 'x'], 4));
    expect(o.errorCode).toBe('CELL_TOO_LARGE');
    expect(o.id).toBe(`${'9'.repeat(80)}…`);
  });
  it('quotes the header as the user wrote it', () => {
    const c = checker(['Lead id', 'Title'], { mapping: { 'lead ID': 'ID' } });
    expect(invalid(c(['x', ''], 2)).message).toBe('line 2, Lead id: "x" is not a lead ID: not a number');
  });
});

describe('several problems in one row', () => {
  it('lists all of them joined with "; ", INVALID_ID taking precedence over INVALID_VALUE', () => {
    const check = checker(['ID', 'EMAIL_WORK', 'OPPORTUNITY']);
    const o = invalid(check(['12abc', 'bob@', 'lots'], 42));
    expect(o.errorCode).toBe('INVALID_ID');
    expect(o.message).toBe(
      'line 42, ID: "12abc" is not a lead ID: not a number; line 42, EMAIL_WORK: "bob@" is not an e-mail address; line 42, OPPORTUNITY: "lots" is not a number',
    );
    const v = invalid(check(['12', 'bob@', 'lots'], 42));
    expect(v.errorCode).toBe('INVALID_VALUE');
    expect(v.message.split('; ')).toHaveLength(2);
  });
});

describe('cell count', () => {
  const check = checker(['ID', 'TITLE', 'NAME', 'LAST_NAME', 'POST', 'COMMENTS']);
  it('a row with too few or too many cells is invalid, ROW_CELL_COUNT', () => {
    expect(invalid(check(['1', 'a', 'b', 'c', 'd'], 7))).toMatchObject({
      errorCode: 'ROW_CELL_COUNT',
      message: 'line 7: 5 cells, the header has 6',
      id: '1',
    });
    expect(invalid(check(['1', 'a', 'b', 'c', 'd', 'e', 'f'], 8)).message).toBe('line 8: 7 cells, the header has 6');
  });
  it('tolerates extra trailing cells when they are all empty', () => {
    expect(valid(check(['1', 'a', '', '', '', '', '', ' '])).fields).toEqual({ TITLE: 'a' });
  });
  it('tolerates missing cells only under trailing empty header cells', () => {
    const trailing = checker(['ID', 'TITLE', '', '']);
    expect(valid(trailing(['1', 'a'])).fields).toEqual({ TITLE: 'a' });
    expect(valid(trailing(['1', 'a', ''])).fields).toEqual({ TITLE: 'a' });
    expect(invalid(trailing(['1'], 3))).toMatchObject({ errorCode: 'ROW_CELL_COUNT', message: 'line 3: 1 cell, the header has 4' });
  });
});

describe('empty cells, blank rows, the clear marker', () => {
  it('an empty cell leaves the field unchanged (not sent)', () => {
    const check = checker(['ID', 'TITLE', 'NAME', 'OPPORTUNITY']);
    expect(valid(check(['1', '   ', '', ''])).fields).toEqual({});
  });
  it('the clear marker sends "" for scalar fields, including typed ones', () => {
    // (not TITLE: the portal requires a title, so clearing it is refused; see portalRefusals.test.ts)
    const check = checker(['ID', 'COMMENTS', 'OPPORTUNITY', 'BIRTHDATE', 'ASSIGNED_BY_ID']);
    const row = valid(check(['1', '#N/A', ' #N/A', '#N/A', '#N/A']));
    expect(row.fields).toEqual({ COMMENTS: '', OPPORTUNITY: '', BIRTHDATE: '', ASSIGNED_BY_ID: '' });
    expect(row.clears).toEqual([]);
  });
  it('honours a custom clear marker', () => {
    const check = checker(['ID', 'COMMENTS', 'NAME', 'TITLE'], { clearMarker: '<clear>' });
    expect(valid(check(['1', '<clear>', '#N/A', '#N/A'])).fields).toEqual({ COMMENTS: '', NAME: '#N/A', TITLE: '#N/A' });
    expect(invalid(check(['1', '', '', '<clear>'], 5)).message).toBe(
      'line 5, TITLE: the title cannot be emptied (the portal requires it and would refuse the whole update)',
    );
  });
  it('a row of empty cells, or a blank line, is invalid with one outcome (EMPTY_ROW)', () => {
    const check = checker(['ID', 'TITLE', 'NAME']);
    expect(invalid(check(['', ' ', ''], 12))).toMatchObject({ errorCode: 'EMPTY_ROW', message: 'line 12: the row is empty', id: '' });
    expect(invalid(check([''], 13))).toMatchObject({ errorCode: 'EMPTY_ROW', message: 'line 13: the row is empty' });
  });
});

describe('cell hygiene', () => {
  it('a cell over maxCellBytes is CELL_TOO_LARGE, counted in UTF-8 bytes', () => {
    const check = checker(['ID', 'COMMENTS'], { input: { maxCellBytes: 10 } });
    expect(valid(check(['1', 'abcdefghij'])).fields).toEqual({ COMMENTS: 'abcdefghij' });
    const o = invalid(check(['1', 'abcdefghijk'], 4));
    expect(o.errorCode).toBe('CELL_TOO_LARGE');
    expect(o.message).toBe('line 4, COMMENTS: the cell is 11 bytes, over the 10-byte limit');
    // 6 Cyrillic letters = 12 bytes
    expect(invalid(check(['1', 'щщщщщщ'])).errorCode).toBe('CELL_TOO_LARGE');
  });
  it('control characters other than tab, CR, LF are CONTROL_CHARACTER', () => {
    const check = checker(['ID', 'TITLE', 'COMMENTS']);
    const o = invalid(check(['1', 'bad\u0007bell', 'ok'], 5));
    expect(o.errorCode).toBe('CONTROL_CHARACTER');
    expect(o.message).toBe('line 5, TITLE: "bad\\u0007bell" contains a control character (U+0007)');
    expect(invalid(check(['1', 'x\u0000', ''])).errorCode).toBe('CONTROL_CHARACTER');
    expect(invalid(check(['1\u001b', '', ''])).errorCode).toBe('CONTROL_CHARACTER');
    expect(valid(check(['1', 'tab\there', 'line\r\nbreak'])).fields).toEqual({ TITLE: 'tab\there', COMMENTS: 'line\r\nbreak' });
  });
});

describe('warnings', () => {
  it('a partial address goes through with a warning naming what is missing', () => {
    const check = checker(['ID', 'ADDRESS', 'ADDRESS_CITY', 'TITLE']);
    const row = valid(check(['1', 'Tverskaya 1', 'Moscow', 'x'], 3));
    expect(row.fields).toMatchObject({ ADDRESS: 'Tverskaya 1', ADDRESS_CITY: 'Moscow' });
    expect(row.warnings).toHaveLength(1);
    expect(row.warnings[0]).toContain('line 3: partial address: ADDRESS, ADDRESS_CITY set without ADDRESS_2, ADDRESS_POSTAL_CODE');
    expect(row.warnings[0]).toContain('ADDRESS_COUNTRY_CODE');
    // no address value in the row: no warning
    expect(valid(check(['1', '', '', 'x'])).warnings).toEqual([]);
  });
  it('the full address set gives no warning', () => {
    const header = [
      'ID',
      'ADDRESS',
      'ADDRESS_2',
      'ADDRESS_CITY',
      'ADDRESS_POSTAL_CODE',
      'ADDRESS_REGION',
      'ADDRESS_PROVINCE',
      'ADDRESS_COUNTRY',
      'ADDRESS_COUNTRY_CODE',
    ];
    const row = valid(checker(header)(['1', 'a', 'b', 'c', '101000', 'd', 'e', 'Russia', 'RU']));
    expect(row.warnings).toEqual([]);
    expect(Object.keys(row.fields)).toHaveLength(8);
  });
  it('a value under an empty header cell is ignored with a warning', () => {
    const check = checker(['ID', 'TITLE', '']);
    const row = valid(check(['1', 'x', 'stray'], 4));
    expect(row.fields).toEqual({ TITLE: 'x' });
    expect(row.warnings).toEqual(['line 4: column 3 has a value but no header; ignored']);
    expect(valid(check(['1', 'x', ''])).warnings).toEqual([]);
  });
});

describe('the valid row', () => {
  it('carries line, id, fields, clears, warnings and raw', () => {
    const check = checker(['ID', 'TITLE']);
    const r = check(['77', ' Hello '], 10);
    expect(r).toEqual({ ok: true, row: { line: 10, id: 77, fields: { TITLE: 'Hello' }, clears: [], warnings: [], raw: '77, Hello ' } });
  });
});

describe('bytes that were not text in the file encoding', () => {
  // A windows-1251 row deep in a file whose first 64 KiB are ASCII is read as UTF-8: its Cyrillic decodes to
  // U+FFFD. Sent, it would overwrite the lead's name with replacement characters for good.
  it('a cell holding U+FFFD is INVALID_VALUE naming the column and the fix, never sent', () => {
    const check = checker(['ID', 'TITLE', 'COMMENTS']);
    const o = invalid(check(['3005', '\uFFFD\uFFFD\uFFFD\uFFFD \uFFFD \uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD 3005', 'ok'], 3006));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toMatch(/^line 3006, TITLE: ".*" holds bytes that are not text in the file's encoding .*--encoding windows-1251/);
    expect(o.id).toBe('3005');
  });
  it('in the ID cell it is INVALID_ID; a control character still wins as CONTROL_CHARACTER', () => {
    const check = checker(['ID', 'TITLE']);
    expect(invalid(check(['1\uFFFD', 'x'])).errorCode).toBe('INVALID_ID');
    expect(invalid(check(['1', 'a\u0007\uFFFD'])).errorCode).toBe('CONTROL_CHARACTER');
  });
});
