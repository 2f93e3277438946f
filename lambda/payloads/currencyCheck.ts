import type { LeadFields } from '../types.ts';
import { addProblem, type CellProblem } from './cellProblems.ts';
import { quote } from './quote.ts';
import type { CurrencySign } from './values/currencySign.ts';

/** An amount cell that carried a currency sign. */
export interface SignedAmount {
  code: string;
  header: string;
  cell: string;
  sign: CurrencySign;
}

const codesOf = (sign: CurrencySign) => (sign.codes.length === 1 ? sign.codes[0] : `${sign.codes.join(', ')}…`);

/**
 * The currency signs of a row's amounts against its CURRENCY_ID. OPPORTUNITY is in the lead's currency: a sign that
 * contradicts the row's CURRENCY_ID makes the row invalid (which one is meant?); with no CURRENCY_ID in the row the
 * sign is only reported, since the lead's currency stays what it is and guessing a code from `$` could set the wrong
 * one. Custom doubles hold a bare number: the sign is reported as dropped.
 */
export function checkCurrencies(
  signed: readonly SignedAmount[],
  fields: LeadFields,
  currencyHeader: string | undefined,
  line: number,
): { problems: CellProblem[] | undefined; warnings: string[] } {
  const currency = typeof fields.CURRENCY_ID === 'string' && fields.CURRENCY_ID !== '' ? fields.CURRENCY_ID : undefined;
  let problems: CellProblem[] | undefined;
  const warnings: string[] = [];
  for (const s of signed) {
    const where = `line ${line}, ${s.header}`;
    if (s.code !== 'OPPORTUNITY') {
      warnings.push(`${where}: the currency sign ${quote(s.sign.text)} of ${quote(s.cell)} is dropped (${s.code} holds a number)`);
    } else if (currency === undefined) {
      warnings.push(
        `${where}: ${quote(s.cell)} is sent without its currency sign ${quote(s.sign.text)} (${codesOf(s.sign)}); the row has no ` +
          "CURRENCY_ID, so the lead's currency stays as it is (add a CURRENCY_ID column to set it)",
      );
    } else if (!s.sign.codes.includes(currency)) {
      const text = `${quote(s.cell)} is in ${codesOf(s.sign)} (${s.sign.text}) but ${currencyHeader ?? 'CURRENCY_ID'} is ${currency}`;
      problems = addProblem(problems, 'INVALID_VALUE', line, s.header, text);
    }
  }
  return { problems, warnings };
}
