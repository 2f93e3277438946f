import { quote } from './quote.ts';
import { type CurrencySign, splitCurrency } from './values/currencySign.ts';
import type { MarkSetting } from './values/decimalMark.ts';
import { amountText, plainDecimalProblem } from './values/numbers.ts';
import { Bad } from './values/parser.ts';
import { roundDecimal } from './values/rounding.ts';

/** One amount cell read: the number to send, and what the row's report should say about it. */
export interface Amount {
  value: number;
  /** The currency sign taken off the cell, if any. */
  sign?: CurrencySign;
  /** Set when the portal keeps fewer decimals than written: the note for the row's warnings. */
  rounding?: string;
}

export type AmountReader = (cell: string) => Amount | Bad;

/**
 * The field as the reader needs it. `precision` is a custom double's settings.PRECISION (crm.lead.fields), which
 * the catalogue does not carry yet: until it does, custom doubles are sent as written.
 */
export interface AmountField {
  code: string;
  precision?: number;
}

/** OPPORTUNITY is DECIMAL(18,2) in b_crm_lead: the portal stores and prints two decimals. */
const OPPORTUNITY_PLACES = 2;

/** The decimals the portal keeps for a double field: OPPORTUNITY 2, a custom double its PRECISION when known. */
export function placesOf(spec: AmountField): number | undefined {
  return spec.code === 'OPPORTUNITY' ? OPPORTUNITY_PLACES : spec.precision;
}

/**
 * The reader of a single amount cell (OPPORTUNITY, a custom double): a currency sign or word is taken off, the
 * decimal mark settled by `mark` (`12,500` refused under 'auto'), and the number rounded the way the portal
 * stores it, so the diff compares, and the row sends, what the lead will hold: a re-run then writes nothing.
 */
export function amountReader(spec: AmountField, mark: MarkSetting): AmountReader {
  const places = placesOf(spec);
  return (cell) => {
    const { amount, sign, conflict } = splitCurrency(cell);
    if (conflict) return new Bad(`${quote(cell)} names two currencies (${conflict})`);
    const text = amountText(amount, mark, cell);
    if (text instanceof Bad) return text;
    const kept = places === undefined ? text : roundDecimal(text, places);
    const value = Number(kept);
    if (!Number.isFinite(value)) return new Bad(`${quote(cell)} is not a number`);
    if (spec.code === 'OPPORTUNITY') {
      const problem = plainDecimalProblem(cell, value);
      if (problem) return problem;
    }
    const out: Amount = { value };
    if (sign) out.sign = sign;
    if (kept !== text) out.rounding = `${quote(cell)} is sent as ${kept}: the portal keeps ${places} decimals`;
    return out;
  };
}
