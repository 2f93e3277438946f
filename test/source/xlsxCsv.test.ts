import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FileRefusedError } from '../../lambda/errors.ts';
import { workbookKind } from '../../lambda/source/workbookKind.ts';
import { xlsxToCsv, type XlsxLimits } from '../../lambda/source/xlsxCsv.ts';
import { readZipDirectory } from '../../lambda/source/zipDirectory.ts';
import { encryptedWorkbook, type XSheet, xlsxOf, zipOf } from './xlsxFile.ts';

/** An .xlsx (written as Excel lays one out) → the CSV the run reads instead. */

const limits: XlsxLimits = { maxRows: 1000, maxBytes: 1 << 20 };

async function csvOf(book: Buffer, l: XlsxLimits = limits): Promise<string> {
  let out = '';
  for await (const chunk of await xlsxToCsv(book, l)) out += chunk;
  return out;
}

async function refusal(book: Buffer, l: XlsxLimits = limits): Promise<FileRefusedError> {
  try {
    await csvOf(book, l);
  } catch (err) {
    expect(err).toBeInstanceOf(FileRefusedError);
    return err as FileRefusedError;
  }
  throw new Error('expected a refusal');
}

const day = (y: number, m: number, d: number, h = 0, min = 0, s = 0) => new Date(Date.UTC(y, m - 1, d, h, min, s));

const leads: XSheet = {
  name: 'Лиды',
  rows: {
    1: ['ID', 'NAME', 'LAST_NAME', 'PHONE', 'BIRTHDATE', 'OPPORTUNITY', 'COMMENTS'],
    2: [
      11,
      'Иван',
      'Петров',
      { n: '79123456789', fmt: 'integer' },
      { date: day(1990, 3, 5) },
      { n: '12500', fmt: 'currency' },
      'Позвонить, "срочно"',
    ],
    // row 3 is absent from the XML: an empty row in the middle
    4: [12, 'José', 'Müller', { n: '7.9123456789E10' }, { date: day(1985, 12, 31), fmt: 'builtinDate' }, { n: '1234.5600000000002' }, null],
    5: [
      13,
      'François',
      'Lefèvre',
      { inline: '+7 912 345-67-89' },
      { date: day(2024, 1, 2, 13, 45, 30), fmt: 'datetime' },
      { n: '0.15', fmt: 'percent' },
      true,
    ],
  },
};
const other: XSheet = { name: 'Справочник', rows: { 1: ['ID', 'TITLE'], 2: [99, 'never read'] } };

describe('the first sheet as CSV', () => {
  it('line N is sheet row N; numbers, dates and text as the cells hold them; the second sheet is not read', async () => {
    const csv = await csvOf(xlsxOf([leads, other]));
    expect(csv).toBe(
      'ID,NAME,LAST_NAME,PHONE,BIRTHDATE,OPPORTUNITY,COMMENTS\r\n' +
        '11,Иван,Петров,79123456789,1990-03-05,12500,"Позвонить, ""срочно"""\r\n' +
        '\r\n' +
        '12,José,Müller,79123456789,1985-12-31,1234.56,\r\n' +
        '13,François,Lefèvre,+7 912 345-67-89,2024-01-02T13:45:30,0.15,TRUE\r\n',
    );
    expect(csv).not.toMatch(/never read|Справочник/);
    // A CSV reader gets the cells back exactly.
    expect(parse(csv, { skip_empty_lines: true, relax_column_count: true })[1]).toEqual([
      '11',
      'Иван',
      'Петров',
      '79123456789',
      '1990-03-05',
      '12500',
      'Позвонить, "срочно"',
    ]);
  });

  it('rows before the header and several empty rows keep their lines; trailing empty rows add nothing', async () => {
    const csv = await csvOf(xlsxOf([{ name: 'S', rows: { 3: ['ID', 'TITLE'], 4: [1, 'a'], 5: [null, ''], 8: [2, 'b'], 12: [] } }]));
    const lines = csv.split('\r\n');
    expect(lines.indexOf('ID,TITLE') + 1).toBe(3);
    expect(lines.indexOf('1,a') + 1).toBe(4);
    expect(lines.indexOf('2,b') + 1).toBe(8);
    expect(csv.endsWith('2,b\r\n')).toBe(true);
  });

  it('a cell with line breaks keeps them; the empty row after it takes the extra line up again', async () => {
    const csv = await csvOf(
      xlsxOf([{ name: 'S', rows: { 1: ['ID', 'ADDRESS'], 2: [1, 'ул. Ленина, 1\nкв. 5'], 4: [2, 'x'], 5: [3, 'y'] } }]),
    );
    expect(csv).toBe('ID,ADDRESS\r\n1,"ул. Ленина, 1\nкв. 5"\r\n2,x\r\n3,y\r\n');
  });

  it('a formula error cell (#DIV/0!) reads as empty, as read-excel-file gives it', async () => {
    const csv = await csvOf(xlsxOf([{ name: 'S', rows: { 1: ['ID', 'OPPORTUNITY'], 2: [1, { error: '#DIV/0!' }] } }]));
    expect(csv).toBe('ID,OPPORTUNITY\r\n1,\r\n');
  });
});

describe('refusals', () => {
  it('an empty first sheet, even when a later sheet has data', async () => {
    const err = await refusal(xlsxOf([{ name: 'Пустой', rows: { 2: [null, ''] } }, other]));
    expect(err.code).toBe('EMPTY_FILE');
    expect(err.message).toMatch(/first sheet is empty.*first sheet only.*drag its tab/);
  });

  it('more data rows than --max-rows, before any CSV is written', async () => {
    const err = await refusal(xlsxOf([leads]), { ...limits, maxRows: 2 });
    expect([err.code, err.message]).toEqual(['TOO_MANY_ROWS', "the workbook's first sheet has 3 rows, over the 2-row limit (--max-rows)"]);
    await expect(csvOf(xlsxOf([leads]), { ...limits, maxRows: 3 })).resolves.toMatch(/^ID,/);
  });

  it('the CSV over --max-bytes', async () => {
    const err = await refusal(xlsxOf([leads]), { ...limits, maxBytes: 100 });
    expect([err.code, err.message]).toEqual([
      'FILE_TOO_LARGE',
      "the workbook's first sheet, as CSV, is over the 100-byte limit (--max-bytes)",
    ]);
  });

  it('more XML than is read in memory, unread, with the way out', async () => {
    const err = await refusal(xlsxOf([leads]), { ...limits, maxXmlBytes: 1024 });
    expect(err.code).toBe('FILE_TOO_LARGE');
    expect(err.message).toMatch(/unpacks to \d+ KB of XML, more than the 1 KB read from a workbook in memory: .*CSV UTF-8.*at any size/);
  });

  it('a password-protected workbook (Excel encryption, or an encrypted ZIP)', async () => {
    expect(workbookKind(encryptedWorkbook())).toBe('encrypted');
    for (const book of [encryptedWorkbook(), xlsxOf([leads], { encrypted: true })]) {
      const err = await refusal(book);
      expect(err.code).toBe('XLSX_ENCRYPTED');
      expect(err.message).toMatch(/protected with a password.*Encrypt with Password.*CSV UTF-8/);
    }
  });

  it('a workbook cut short, and a ZIP that is a workbook in name only', async () => {
    const book = xlsxOf([leads]);
    const cut = book.subarray(0, book.length - 30);
    expect(workbookKind(cut)).toBe('damaged');
    expect((await refusal(cut)).message).toMatch(/^the workbook cannot be read \(it is not a complete ZIP archive/);
    const hollow = zipOf([['xl/workbook.xml', '<workbook/>']]);
    const err = await refusal(hollow);
    expect(err.code).toBe('XLSX_UNREADABLE');
    expect(err.message).toMatch(/^the workbook cannot be read \(.+\): open it in Excel and save it again/);
  });
});

describe('what is a workbook', () => {
  it('an .xlsx is; a CSV, an .xls without encryption and another ZIP (a .docx) are left to the CSV path', () => {
    expect(workbookKind(xlsxOf([leads]))).toBe('xlsx');
    expect(workbookKind(Buffer.from('ID,TITLE\r\n1,a\r\n'))).toBeUndefined();
    const xls = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.from('Workbook', 'utf16le')]);
    expect(workbookKind(xls)).toBeUndefined();
    expect(workbookKind(zipOf([['word/document.xml', '<w:document/>']]))).toBeUndefined();
    // A ZIP header and nothing an Office file starts with: not a damaged workbook, just not a CSV.
    expect(workbookKind(Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100, 1)]))).toBeUndefined();
  });

  it('the ZIP directory: names and unpacked sizes, without unpacking', () => {
    const entries = readZipDirectory(
      zipOf([
        ['a.xml', 'x'.repeat(5000)],
        ['b/c.xml', 'yz'],
      ]),
    );
    expect(entries).toEqual([
      { name: 'a.xml', size: 5000, encrypted: false },
      { name: 'b/c.xml', size: 2, encrypted: false },
    ]);
    expect(readZipDirectory(Buffer.from('PK\x03\x04 not really', 'latin1'))).toBeUndefined();
  });
});
