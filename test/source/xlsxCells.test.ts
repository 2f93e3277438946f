import { describe, expect, it } from 'vitest';
import { cellText, NumberText, plainDecimal } from '../../lambda/source/cellText.ts';
import { csvField, csvRecord, sheetCsvChunks } from '../../lambda/source/sheetCsv.ts';

/** A workbook cell → its CSV text, and rows → CSV lines numbered as the sheet's rows. */

describe('numbers: the stored value, never a display format or a float artefact', () => {
  it.each([
    ['79123456789', '79123456789'], // a phone stored as a number
    ['7.9123456789E10', '79123456789'],
    ['7.9123456789E+10', '79123456789'],
    ['1234.5600000000002', '1234.56'], // a formula's binary noise past Excel's 15 digits
    ['0.30000000000000004', '0.3'],
    ['0.15', '0.15'], // a percentage cell is its fraction
    ['12500', '12500'], // "12 500,00 ₽" on screen
    ['1E-3', '0.001'],
    ['-2.5E-7', '-0.00000025'],
    ['1E+21', '1000000000000000000000'],
    ['-0', '0'],
    ['0', '0'],
    ['123456789012345678', '123456789012346000'], // Excel keeps 15 digits of an 18-digit number
  ])('%s → %s', (stored, text) => {
    expect(plainDecimal(stored)).toBe(text);
    expect(cellText(new NumberText(stored))).toBe(text);
  });

  it('text that is not a number stays as it is', () => {
    expect(plainDecimal('NaN')).toBe('NaN');
    expect(plainDecimal('')).toBe('');
    expect(plainDecimal('.')).toBe('.');
  });
});

describe('other cells', () => {
  it('dates: a date alone at midnight, else with the time to the second', () => {
    expect(cellText(new Date(Date.UTC(1990, 2, 5)))).toBe('1990-03-05');
    expect(cellText(new Date(Date.UTC(2024, 0, 2, 13, 45, 30)))).toBe('2024-01-02T13:45:30');
    // A day fraction stored a hair short of the second.
    expect(cellText(new Date(Date.UTC(2024, 0, 2, 13, 45, 29, 999)))).toBe('2024-01-02T13:45:30');
    expect(cellText(new Date(Date.UTC(2024, 0, 2, 23, 59, 59, 700)))).toBe('2024-01-03');
  });

  it('booleans as Excel writes them in a CSV, text exactly as written, empty as empty', () => {
    expect([cellText(true), cellText(false), cellText('  José  '), cellText(null), cellText(undefined)]).toEqual([
      'TRUE',
      'FALSE',
      '  José  ',
      '',
      '',
    ]);
  });
});

describe('CSV text', () => {
  it('fields are quoted only when they must be (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('a;b\tc')).toBe('a;b\tc');
  });

  it('an all-empty row is an empty record', () => {
    expect(csvRecord([null, '', undefined])).toBe('');
    expect(csvRecord([null, 'x'])).toBe(',x');
  });

  it('rows become lines numbered as the sheet: gaps as blank lines, a multi-line cell made up by the next gap', () => {
    const rows = [[], ['ID', 'NOTE'], ['1', 'a\r\nb\nc'], [], [], ['2', 'x'], [], ['3', 'y']];
    const csv = [...sheetCsvChunks(rows, { maxBytes: 1 << 20 })].join('');
    expect(csv).toBe('\r\nID,NOTE\r\n1,"a\r\nb\nc"\r\n2,x\r\n\r\n3,y\r\n');
    // Line numbers as a CSV reader counts them (CRLF, LF, lone CR): row 6 is line 6, row 8 line 8.
    const starts = csv.split(/\r\n|\n|\r/);
    expect(starts[5]).toBe('2,x');
    expect(starts[7]).toBe('3,y');
  });

  it('big sheets come in several chunks; the byte limit counts UTF-8 bytes', () => {
    const rows = [['ID', 'NAME'], ...Array.from({ length: 10_000 }, (_, i) => [String(i), 'Иван Петров'])];
    const chunks = [...sheetCsvChunks(rows, { maxBytes: 1 << 22 })];
    expect(chunks.length).toBeGreaterThan(1);
    const bytes = Buffer.byteLength(chunks.join(''));
    expect(() => [...sheetCsvChunks(rows, { maxBytes: bytes })]).not.toThrow();
    expect(() => [...sheetCsvChunks(rows, { maxBytes: bytes - 1 })]).toThrow(/over the \d+-byte limit \(--max-bytes\)/);
  });
});
