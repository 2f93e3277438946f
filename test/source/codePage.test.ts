import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { FileRefusedError } from '../../lambda/errors.ts';
import { betterReading, guessCodePage } from '../../lambda/source/codePage.ts';
import { detectFormat } from '../../lambda/source/format.ts';

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

/** A Western export as Excel writes it (German, French, Spanish names). */
const WESTERN =
  'ID;NAME;LAST_NAME;COMPANY_TITLE;COMMENTS\r\n' +
  '1;José;Müller;Café Zoë GmbH;Rückruf erbeten\r\n' +
  '2;François;Lefèvre;Société Générale;à rappeler après 14h\r\n' +
  '3;Iñigo;Núñez;Añejo S.L.;Señor García, Málaga\r\n';
const RUSSIAN =
  'ID;NAME;LAST_NAME;COMPANY_TITLE;COMMENTS\r\n' +
  '1;Иван;Петров;ООО «Ромашка»;Перезвонить после 14:00\r\n' +
  '2;Ёлка;Сидорова;ИП Жуков;Счёт № 15 оплачен\r\n';

describe('detectFormat: which code page a non-UTF-8 file is in', () => {
  it.each([
    ['windows-1251', RUSSIAN, 'win1251'],
    ['windows-1252', WESTERN, 'win1252'],
    ['macintosh', WESTERN, 'macintosh'],
  ] as const)('%s: the words read clean only in their own code page', (encoding, text, iconvName) => {
    expect(detectFormat(iconv.encode(text, iconvName), auto)).toMatchObject({ encoding, delimiter: ';' });
  });

  it('one accented name is enough when every other reading garbles it (José: Josй, JosÈ)', () => {
    expect(detectFormat(iconv.encode('ID,NAME\n1,José\n', 'win1252'), auto).encoding).toBe('windows-1252');
    expect(detectFormat(iconv.encode('ID,NAME\n1,Zoë Müller\n', 'macintosh'), auto).encoding).toBe('macintosh');
  });

  it('a euro sign after an amount is not the Serbian letter Ђ', () => {
    expect(detectFormat(iconv.encode('ID;TITLE\r\n1;Angebot 100€\r\n', 'win1252'), auto).encoding).toBe('windows-1252');
  });

  it("a Mac file's no-break space inside an amount is not a Cyrillic letter (1К234)", () => {
    expect(detectFormat(iconv.encode('ID;OPPORTUNITY;TITLE\r\n1;1\u00a0234,50;Zoë\r\n', 'macintosh'), auto).encoding).toBe('macintosh');
  });

  it('refuses when two readings are both plausible, naming them, --encoding and CSV UTF-8', () => {
    // `à` alone reads as the Cyrillic word `а` just as well: nothing tells windows-1252 from windows-1251.
    const e = refusal(() => detectFormat(iconv.encode('ID;TITLE\r\n1;Tour à Paris\r\n', 'win1252'), auto));
    expect(e.code).toBe('UNSURE_ENCODING');
    expect(e.message).toMatch(/windows-1251/);
    expect(e.message).toMatch(/windows-1252/);
    expect(e.message).toMatch(/--encoding/);
    expect(e.message).toMatch(/CSV UTF-8/);
  });

  it('refuses bytes that read as words in no code page (binary noise without NULs)', () => {
    const noise = Buffer.from(Array.from({ length: 3000 }, (_, i) => 0x80 + ((i * 37) % 128)));
    const e = refusal(() => detectFormat(noise, auto));
    expect(e.code).toBe('UNSURE_ENCODING');
    expect(e.message).toMatch(/does not read as words in any code page we know \(windows-1251, windows-1252, macintosh\)/);
  });

  it('a forced code page is taken as given, even where detection would refuse', () => {
    const head = iconv.encode('ID;TITLE\r\n1;Tour à Paris\r\n', 'win1252');
    expect(detectFormat(head, { encoding: 'windows-1252', delimiter: 'auto' }).encoding).toBe('windows-1252');
  });
});

describe('guessCodePage and betterReading', () => {
  it('counts the garbled words of each reading', () => {
    expect(guessCodePage(iconv.encode(WESTERN, 'win1252'))).toEqual({ encoding: 'windows-1252' });
    const unsure = guessCodePage(iconv.encode('Tour à Paris', 'win1252'));
    expect(unsure).toMatchObject({ unsure: ['windows-1251', 'windows-1252'] });
  });

  it('a row that reads badly in the chosen code page names the one that reads it better', () => {
    expect(betterReading(iconv.encode('7;Иван;Петров', 'win1251'), 'windows-1252')).toEqual({ readsAs: 'windows-1251', word: 'Èâàí' });
    expect(betterReading(iconv.encode('7;José;Müller', 'win1252'), 'windows-1251')).toEqual({ readsAs: 'windows-1252', word: 'Josй' });
    expect(betterReading(iconv.encode('7;José;Müller', 'win1252'), 'windows-1252')).toBeUndefined();
    // Real Russian data with a Latin letter typed inside a word reads badly everywhere: not the code page's fault.
    expect(betterReading(iconv.encode('7;Ивaнов', 'win1251'), 'windows-1251')).toBeUndefined();
  });
});

describe('detectFormat: Excel\'s "sep=;" line, quoted', () => {
  it.each([
    ['"sep=;"\r\nID;TITLE\r\n1;a,b\r\n', ';'],
    ['"sep=,"\nID,TITLE\n1,a;b\n', ','],
    ['"sep=\t"\r\nID\tTITLE\r\n', '\t'],
  ])('%j names the delimiter and is skipped like sep=;', (text, delimiter) => {
    const eol = text.indexOf('\n') + 1;
    expect(detectFormat(Buffer.from(text), auto)).toEqual({
      encoding: 'utf-8',
      delimiter,
      bomLength: 0,
      headerOffset: eol,
      headerLine: 2,
    });
  });

  it('after a UTF-8 BOM too', () => {
    const f = detectFormat(Buffer.from('\uFEFF"sep=;"\r\nID;TITLE\r\n'), auto);
    expect(f).toMatchObject({ delimiter: ';', bomLength: 3, headerOffset: 3 + 9, headerLine: 2 });
  });
});

describe('detectFormat: spreadsheets that are not CSV', () => {
  const steps = /open it in Excel.*Save As.*CSV UTF-8/;
  it.each([
    [
      'an HTML table saved as .xls (the portal\'s "Export to Excel")',
      '<html xmlns:o="urn:schemas-microsoft-com:office:office">\n<head><meta charset="utf-8"></head><body><table><tr><td>ID</td></tr></table></body></html>',
    ],
    ['a bare table', '<table border="1"><tr><th>ID</th><th>Name</th></tr></table>'],
    ['with a BOM and blank lines first', '\uFEFF\r\n  <HTML><body><table></table></body></HTML>'],
    ['a doctype first', '<!DOCTYPE html>\n<html><body><table></table></body></html>'],
  ])('%s: EXCEL_HTML, with the steps to a CSV', (_name, text) => {
    const e = refusal(() => detectFormat(Buffer.from(text), auto));
    expect(e.code).toBe('EXCEL_HTML');
    expect(e.message).toMatch(/HTML/);
    expect(e.message).toMatch(steps);
    expect(e.message).toMatch(/Export to CSV/);
  });

  it('Excel 2003 XML (SpreadsheetML) is refused with the same steps', () => {
    const xml =
      '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>';
    const e = refusal(() => detectFormat(Buffer.from(xml), auto));
    expect(e.code).toBe('EXCEL_XML');
    expect(e.message).toMatch(steps);
  });

  it('an .xlsx workbook (ZIP) is NOT_TEXT with the steps to a CSV', () => {
    const e = refusal(() => detectFormat(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0]), auto));
    expect(e.code).toBe('NOT_TEXT');
    expect(e.message).toMatch(/\.xlsx/);
    expect(e.message).toMatch(steps);
  });

  it('a CSV whose first cell merely starts with < is still a CSV', () => {
    expect(detectFormat(Buffer.from('<ID>,TITLE\n1,a\n'), auto).encoding).toBe('utf-8');
  });
});
