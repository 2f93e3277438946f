import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { FileRefusedError } from '../../lambda/errors.ts';
import { detectFormat, guessDelimiter, isUtf8 } from '../../lambda/source/format.ts';
import { encryptedWorkbook } from './xlsxFile.ts';

const auto = { encoding: 'auto', delimiter: 'auto' } as const;

function refusal(fn: () => unknown): FileRefusedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FileRefusedError) return err;
    throw err;
  }
  throw new Error('expected a FileRefusedError');
}

describe('detectFormat: encoding', () => {
  it('reads plain UTF-8 (Cyrillic included) as utf-8 with no BOM', () => {
    expect(detectFormat(Buffer.from('ID,NAME\n1,Иван\n'), auto)).toEqual({
      encoding: 'utf-8',
      delimiter: ',',
      bomLength: 0,
      headerOffset: 0,
      headerLine: 1,
    });
  });

  it('strips a UTF-8 BOM', () => {
    expect(detectFormat(Buffer.from('\uFEFFID;NAME\r\n1;Иван\r\n'), auto)).toEqual({
      encoding: 'utf-8',
      delimiter: ';',
      bomLength: 3,
      headerOffset: 3,
      headerLine: 1,
    });
  });

  it('falls back to windows-1251 when the bytes are not UTF-8 (Russian Excel export)', () => {
    const head = iconv.encode('ID;NAME;COMMENTS\r\n1;Иван;Позвонить завтра\r\n', 'win1251');
    expect(detectFormat(head, auto)).toEqual({ encoding: 'windows-1251', delimiter: ';', bomLength: 0, headerOffset: 0, headerLine: 1 });
  });

  it('keeps utf-8 when the head ends in the middle of a multi-byte character', () => {
    const full = Buffer.from('ID,NAME\n1,Иван\n');
    const cut = full.subarray(0, full.indexOf(Buffer.from('в')) + 1); // first byte of a 2-byte character
    expect(isUtf8(cut)).toBe(true);
    expect(detectFormat(cut, auto).encoding).toBe('utf-8');
  });

  it('honours a forced encoding', () => {
    expect(detectFormat(Buffer.from('ID,NAME\n1,Иван\n'), { encoding: 'windows-1251', delimiter: 'auto' }).encoding).toBe('windows-1251');
    expect(detectFormat(iconv.encode('ID,NAME\n1,Иван\n', 'win1251'), { encoding: 'utf-8', delimiter: 'auto' }).encoding).toBe('utf-8');
  });

  it('refuses UTF-16 with a byte order mark (LE and BE)', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ID,NAME\r\n1,Bob\r\n', 'utf16le')]);
    const e1 = refusal(() => detectFormat(le, auto));
    expect(e1.code).toBe('UNSUPPORTED_ENCODING');
    expect(e1.message).toMatch(/UTF-16/);
    const be = Buffer.from([0xfe, 0xff, 0x00, 0x49, 0x00, 0x44]);
    expect(refusal(() => detectFormat(be, auto)).code).toBe('UNSUPPORTED_ENCODING');
  });

  it('refuses UTF-16 without a BOM (NUL between characters)', () => {
    const e = refusal(() => detectFormat(Buffer.from('ID,NAME\r\n1,Bob\r\n', 'utf16le'), auto));
    expect(e.code).toBe('UNSUPPORTED_ENCODING');
  });

  it('refuses binary garbage and workbooks as NOT_TEXT', () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    expect(refusal(() => detectFormat(garbage, auto)).code).toBe('NOT_TEXT');
    const xlsx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('[Content_Types].xml')]);
    const e = refusal(() => detectFormat(xlsx, auto));
    expect(e.code).toBe('NOT_TEXT');
    expect(e.message).toMatch(/Excel/);
    const controls = Buffer.from('\x01\x02\x03\x04\x05\x06\x07\x08ID\x0e\x0f\x10\x11');
    expect(refusal(() => detectFormat(controls, auto)).code).toBe('NOT_TEXT');
  });

  it('a password-protected workbook is named as one, not as an .xls, with the save-as steps', () => {
    const e = refusal(() => detectFormat(encryptedWorkbook(), auto));
    expect(e.code).toBe('XLSX_ENCRYPTED');
    expect(e.message).toMatch(/password-protected \(encrypted\) Excel workbook, not a CSV: .*"CSV UTF-8 \(Comma delimited\)/);
    const xls = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(600)]);
    expect(refusal(() => detectFormat(xls, auto)).message).toMatch(/Excel 97-2003 workbook \(\.xls\)/);
  });

  it('refuses an empty head, a lone BOM and blank lines as EMPTY_FILE', () => {
    expect(refusal(() => detectFormat(Buffer.alloc(0), auto)).code).toBe('EMPTY_FILE');
    expect(refusal(() => detectFormat(Buffer.from([0xef, 0xbb, 0xbf]), auto)).code).toBe('EMPTY_FILE');
    expect(refusal(() => detectFormat(Buffer.from('\r\n\r\n  \n'), auto)).code).toBe('EMPTY_FILE');
  });
});

describe('detectFormat: delimiter', () => {
  it('picks ; when commas only appear inside values', () => {
    expect(guessDelimiter('ID;TITLE;OPPORTUNITY\n1;Smith, John;12,50\n2;Doe, Jane;7,00\n')).toBe(';');
  });

  it('picks tab for tab-separated exports', () => {
    expect(guessDelimiter('ID\tTITLE\tCOMMENTS\n1\tA, b\tc; d\n2\tE\tF\n')).toBe('\t');
  });

  it('picks , and ignores delimiters inside quoted fields, even across quoted line breaks', () => {
    const text = 'ID,TITLE,COMMENTS\n1,"A;B;C","x;\ny;z"\n2,"D;E",F\n';
    expect(guessDelimiter(text)).toBe(',');
  });

  it('prefers the delimiter whose count is consistent over one that merely appears often', () => {
    const text = 'ID,NAME\n1,"a"\n2,b\n3,c;d;e;f\n';
    expect(guessDelimiter(text)).toBe(',');
  });

  it('defaults to , for a single-column file', () => {
    expect(guessDelimiter('ID\n1\n2\n')).toBe(',');
  });

  it('honours a forced delimiter', () => {
    expect(detectFormat(Buffer.from('ID;A,B\n1;x,y\n'), { encoding: 'auto', delimiter: ',' }).delimiter).toBe(',');
  });
});

describe("detectFormat: Excel's sep= line", () => {
  const auto = { encoding: 'auto', delimiter: 'auto' } as const;
  it('names the delimiter and is skipped: the header starts on line 2', () => {
    expect(detectFormat(Buffer.from('sep=;\r\nID;TITLE\r\n1;a,b\r\n'), auto)).toEqual({
      encoding: 'utf-8',
      delimiter: ';',
      bomLength: 0,
      headerOffset: 7,
      headerLine: 2,
    });
    expect(detectFormat(Buffer.from('\uFEFFSEP=,\nID,TITLE\n'), auto)).toMatchObject({ delimiter: ',', headerOffset: 9, headerLine: 2 });
  });
  it('an explicit --delimiter still wins', () => {
    expect(detectFormat(Buffer.from('sep=;\nID,TITLE\n'), { encoding: 'auto', delimiter: ',' })).toMatchObject({
      delimiter: ',',
      headerOffset: 6,
    });
  });
});
