/**
 * Currency signs and words around an amount (`1 234,50 ₽`, `1 234,50 руб.`, `$1,234.50`, `€ 12.50`,
 * `12.50 USD`): the sign is taken off, and what it says is kept to check against the row's CURRENCY_ID.
 */

export interface CurrencySign {
  /** As written: `$`, `руб.`, `USD`. */
  text: string;
  /** The currency codes it may stand for (`$` is the dollar of several countries). */
  codes: readonly string[];
}

/** Signs and words (lower case) → the codes they may mean. ISO codes in capitals (`USD`) are read as themselves. */
const SIGNS: Readonly<Record<string, readonly string[]>> = {
  '₽': ['RUB'],
  руб: ['RUB'],
  'руб.': ['RUB'],
  'р.': ['RUB'],
  rub: ['RUB'],
  $: ['USD', 'CAD', 'AUD', 'NZD', 'SGD', 'HKD', 'MXN'],
  us$: ['USD'],
  '€': ['EUR'],
  '£': ['GBP'],
  '¥': ['JPY', 'CNY'],
  '₴': ['UAH'],
  грн: ['UAH'],
  'грн.': ['UAH'],
  '₸': ['KZT'],
  тг: ['KZT'],
  'тг.': ['KZT'],
  usd: ['USD'],
  eur: ['EUR'],
};

const SIGN = String.raw`US\$|[$€£¥₽₴₸]`;
const PREFIX = new RegExp(String.raw`^(${SIGN}|[A-Z]{3}(?=[\s\d+-]))\s*`, 'u');
const SUFFIX = new RegExp(String.raw`(?<=[\d\s])\s*(${SIGN}|руб\.?|р\.|грн\.?|тг\.?|[A-Za-z]{3})$`, 'iu');

function signOf(text: string): CurrencySign | undefined {
  const known = SIGNS[text.toLowerCase()];
  if (known) return { text, codes: known };
  return /^[A-Z]{3}$/.test(text) ? { text, codes: [text] } : undefined;
}

/**
 * The amount without its currency sign, and the sign. A sign before and another after must agree (`$12 USD`);
 * `conflict` names them when they do not. A text with no sign comes back as it is.
 */
export function splitCurrency(text: string): { amount: string; sign?: CurrencySign; conflict?: string } {
  let t = text.trim();
  let minus = '';
  if (/^[+-]/.test(t) && PREFIX.test(t.slice(1).trimStart())) {
    minus = t[0];
    t = t.slice(1).trimStart();
  }
  let before: CurrencySign | undefined;
  const p = PREFIX.exec(t);
  if (p) {
    before = signOf(p[1]);
    if (before) t = t.slice(p[0].length);
  }
  let after: CurrencySign | undefined;
  const s = SUFFIX.exec(t);
  if (s) {
    after = signOf(s[1]);
    if (after) t = t.slice(0, s.index).trimEnd();
  }
  const amount = minus + t;
  if (before && after && !before.codes.some((c) => after.codes.includes(c)))
    return { amount, sign: before, conflict: `${before.text} and ${after.text}` };
  const sign =
    before && after
      ? { text: `${before.text} … ${after.text}`, codes: before.codes.filter((c) => after.codes.includes(c)) }
      : (before ?? after);
  return sign ? { amount, sign } : { amount };
}
