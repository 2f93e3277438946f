import { describe, expect, it } from 'vitest';
import {
  formatCell,
  formatOutcome,
  formatPlan,
  formatRejectedSafe,
  PLAN_COLUMNS,
  REPORT_COLUMNS,
  reportHeader,
} from '../../lambda/report/lines.ts';
import type { RowOutcome } from '../../lambda/types.ts';

/**
 * Spreadsheets split a CSV at their locale's list separator: a Russian Excel cuts at `;`, others at tab or `|`.
 * So no piece of a line we write, cut at any of those (or at a comma or line break), may start a formula —
 * after the quotes and spaces a parser would drop.
 */
const SEPARATORS = /[,;\t|\r\n]/;
const FORMULA = /^[ "]*[=+\-@\t\r＝＋－＠]/;

/** Every field any locale could see in `text`, whose first character a spreadsheet would evaluate. */
function formulaFields(text: string): string[] {
  // Cut at every separator; a tab or CR inside a piece would itself be a separator, so a piece starting
  // with one cannot exist: what is left is what follows each cut.
  return text.split(SEPARATORS).filter((field) => FORMULA.test(field));
}

const ATTACKS = [
  "1;=cmd|' /C calc'!A0;",
  "1;+cmd|' /C calc'!A0",
  '1;-2+3',
  '1;@SUM(A1)',
  '1;\t=1+1',
  '1|=1+1',
  '1\t=1+1',
  '1;"=HYPERLINK(""http://evil.example"")"',
  '1; =1+1',
  '1;＝1+1',
  '1;＠SUM(A1)',
  'a,=1+1',
  'a\n=1+1',
  'a\r=1+1',
  '=1+1',
  '＋1',
];

const outcome = (text: string): RowOutcome => ({
  line: 2,
  id: text,
  status: 'invalid',
  errorCode: text,
  message: text,
  attempts: 0,
  changes: text,
});

describe('CSV cells we write start no formula in any locale (`;`, tab, `|` list separators)', () => {
  it.each(ATTACKS)('report.csv line for %j', (attack) => {
    const line = formatOutcome(outcome(attack));
    expect(formulaFields(line)).toEqual([]);
  });

  it.each(ATTACKS)('plan.csv line for %j', (attack) => {
    expect(formulaFields(formatPlan(outcome(attack)))).toEqual([]);
  });

  it.each(ATTACKS)('rejected.safe.csv line for the raw record %j (comma and semicolon sources)', (attack) => {
    expect(formulaFields(formatRejectedSafe(`7,${formatCell(attack)}`, ','))).toEqual([]);
    expect(formulaFields(formatRejectedSafe(`7;x;${attack.replaceAll(';', ',')}`, ';'))).toEqual([]);
  });

  it('quotes every cell holding a list separator of some locale, so a `,` reader keeps it one cell', () => {
    for (const v of ['a;b', 'a\tb', 'a|b', 'a,b', 'a"b', 'a\rb', 'a\nb']) expect(formatCell(v)).toMatch(/^".*"$/s);
    expect(formatCell('plain')).toBe('plain');
  });

  it('the audit example: the ID cell stays one cell, its formula segment neutralised', () => {
    expect(formatCell("1;=cmd|' /C calc'!A0;")).toBe(`"1;'=cmd|' /C calc'!A0;"`);
    expect(formatCell('=1+1')).toBe(`'=1+1`);
    expect(formatCell('＝1+1')).toBe(`'＝1+1`);
  });

  it('headers go through the same cell formatter', () => {
    expect(formulaFields(reportHeader(REPORT_COLUMNS) + reportHeader(PLAN_COLUMNS))).toEqual([]);
  });

  it('rejected.safe.csv keeps every cell of the raw record, guarded, comma-separated', () => {
    expect(formatRejectedSafe('5;"a ""b""";=x;', ';')).toBe(`5,"a ""b""",'=x,\r\n`);
    expect(formatRejectedSafe('ID,TITLE', ',')).toBe('ID,TITLE\r\n');
  });
});
