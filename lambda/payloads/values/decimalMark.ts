import type { RunOptions } from '../../config.ts';
import { splitCurrency } from './currencySign.ts';

/**
 * Which of `,` and `.` is an amount's decimal mark. Most amounts say it themselves (`12,50`, `1 234,50`,
 * `1,234.50`); a lone mark before exactly three digits (`12,500`, `1.234`) does not: thousands or decimals.
 * Such a value is read only when the mark is settled: by the run (`--decimal-mark`) or by the file's other amounts.
 */
export type DecimalMark = ',' | '.';
/** The run's setting, or a mark decided for the file. */
export type MarkSetting = RunOptions['decimalMark'];

const GROUP_SPACES = /[ \u00A0\u202F\u2009]/;
/** A lone mark before exactly three digits, after one to three digits not starting with 0: either reading is a number. */
const AMBIGUOUS = /^[+-]?[1-9]\d{0,2}([.,])\d{3}$/;

/** The mark in an ambiguous amount (`12,500` → ','), or undefined when the amount says which mark it uses. */
export function ambiguousMark(digits: string): DecimalMark | undefined {
  return AMBIGUOUS.exec(digits)?.[1] as DecimalMark | undefined;
}

/**
 * What one amount cell proves about the file's decimal mark: `1.234,50`, `1 234,5 ₽` and `12,5` prove `,`;
 * `$1,234.50`, `1,234,567` and `12.5` prove `.`; `12,500`, `1234` and text prove nothing.
 */
export function markEvidence(cell: string): DecimalMark | undefined {
  const t = splitCurrency(cell).amount;
  if (!/^[+-]?[\d.,\u0020\u00A0\u202F\u2009]*\d[\d.,]*$/.test(t) || ambiguousMark(t)) return undefined;
  const comma = t.lastIndexOf(',');
  const dot = t.lastIndexOf('.');
  if (comma >= 0 && dot >= 0) return comma > dot ? ',' : '.';
  const mark: DecimalMark | undefined = comma >= 0 ? ',' : dot >= 0 ? '.' : undefined;
  if (!mark) return undefined;
  // The same mark twice groups thousands: the decimal mark is the other one.
  if (t.indexOf(mark) !== t.lastIndexOf(mark)) return GROUP_SPACES.test(t) ? undefined : mark === ',' ? '.' : ',';
  return mark;
}

/**
 * The file's decimal mark from its amounts: what the run says, else what the amounts agree on; amounts that
 * disagree (a `1.234,50` and a `1,234.50`) settle nothing, so ambiguous values stay refused.
 */
export function decideDecimalMark(setting: MarkSetting, amounts: Iterable<string>): MarkSetting {
  if (setting !== 'auto') return setting;
  let seen: DecimalMark | undefined;
  for (const amount of amounts) {
    const mark = markEvidence(amount);
    if (!mark) continue;
    if (seen && seen !== mark) return 'auto';
    seen = mark;
  }
  return seen ?? 'auto';
}
