import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOutcome, REPORT_COLUMNS, reportHeader } from '../../lambda/report/lines.ts';
import type { RowOutcome } from '../../lambda/types.ts';
import { dryRun, expectConsistent, fixture } from '../support/badinput.ts';

/**
 * Report cells we generate are safe to open in Excel (no cell starts a formula), while rejected.csv keeps the
 * user's raw rows byte for byte (formulas included: it is their data, to fix and upload again).
 */

const DANGEROUS = ['=', '+', '-', '@', '\t', '\r'];
/** A cell Excel (or LibreOffice, Sheets) would evaluate: it starts with one of these. */
const FORMULA_START = /^[=+\-@\t\r]/;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'excel-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('report.csv cells cannot run as formulas', () => {
  it('every generated column, whatever text it carries (portal errors, user values), for every dangerous first character', () => {
    const payloads = ["cmd|' /C calc'!A0", 'HYPERLINK("http://evil.example","x")', '1+1', 'SUM(A1:A9)'];
    let text = reportHeader();
    const outcomes: RowOutcome[] = [];
    for (const start of DANGEROUS) {
      for (const p of payloads) {
        outcomes.push({ line: 2, id: start + p, status: 'failed', errorCode: start + 'ERR', message: start + p, attempts: 1 });
      }
    }
    for (const o of outcomes) text += formatOutcome(o);
    const rows = parse(text, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    expect(rows).toHaveLength(outcomes.length);
    for (const row of rows) {
      for (const col of REPORT_COLUMNS) expect([col.name, row[col.name]]).not.toEqual([col.name, expect.stringMatching(FORMULA_START)]);
    }
    // The text itself is kept, behind the apostrophe Excel shows as nothing.
    expect(rows[0].error_message).toBe(`'=cmd|' /C calc'!A0`);
  });

  it('through the CLI: the id cell of an invalid row and messages quoting user text are safe', async () => {
    const f = fixture('ID,TITLE,EMAIL', [
      '=1+1,a,',
      '+1,a,',
      '-1,a,',
      '@SUM(1),a,',
      '"\t=2",a,',
      '"=HYPERLINK(""http://evil.example"",""x"")",a,',
      '5,a,=cmd@x',
      '6,=HYPERLINK("x"),',
    ]);
    const r = await dryRun(dir, 'formulas.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    for (const row of r.files.report) for (const v of Object.values(row)) expect(v).not.toMatch(FORMULA_START);
    expect(r.files.report.map((x) => x.id)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM(1)",
      "'=2",
      `'=HYPERLINK("http://evil.example","x")`,
      '5',
      '6',
    ]);
    expect(r.files.report[6].error_message).toMatch(/^line 8, EMAIL: "=cmd@x"/);
    expect(r.files.report[7].status).toBe('valid'); // a formula in TITLE is data, sent as written
    // rejected.csv has the formulas exactly as the user wrote them (checked byte for byte above).
    expect(r.files.rejected.toString()).toContain('"=HYPERLINK(""http://evil.example"",""x"")",a,\r\n');
  });
});

describe('rejected.csv keeps the raw rows byte for byte', () => {
  it('windows-1251, semicolons, quoted line breaks, formulas and odd spacing', async () => {
    const f = fixture(
      'ID;НАЗВАНИЕ;COMMENTS',
      ['1;Заявка;ok', 'пять;  Ошибка  ;"две\r\nстроки"', '7;=СУММ(1;2);x', ' 8 ;"кавычки ""внутри""";', '-3;минус;'],
      { encoding: 'windows-1251', eol: '\r\n' },
    );
    const map = join(dir, 'ru.json');
    await writeFile(map, JSON.stringify({ НАЗВАНИЕ: 'TITLE' }));
    const r = await dryRun(dir, 'ru.csv', f, ['--map', map]);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report.map((x) => x.status)).toEqual(['valid', 'invalid', 'invalid', 'valid', 'invalid']);
  });

  it('UTF-8 with BOM and LF line ends: the BOM and every row byte kept (line ends become CRLF)', async () => {
    const f = fixture('ID,TITLE,NAME', ['1,a,b', 'x,"ü ""q""",  sp  ', '3,"multi\nline",c', '4,\u00a0nbsp\u00a0,', '0,zero,'], {
      bom: true,
    });
    const r = await dryRun(dir, 'bom.csv', f);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.rejected.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
  });
});
