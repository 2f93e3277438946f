import { quote } from '../quote.ts';
import { Bad, type Parser } from './parser.ts';

/** crm_currency: three letters → upper case. */
export const parseCurrency: Parser = (v) => {
  if (/^[A-Za-z]{3}$/.test(v)) return v.toUpperCase();
  return new Bad(`${quote(v)} is not a currency code (three letters, e.g. RUB, USD, EUR)`);
};

const STATUS_CODE = /^[A-Za-z0-9_.:-]+$/;
/** Lists longer than this are cut in messages. */
const LIST_MAX = 30;

function listed(values: readonly string[]): string {
  return values.length > LIST_MAX ? `${values.slice(0, LIST_MAX).join(', ')}, … (${values.length} in all)` : values.join(', ');
}

/**
 * crm_status (STATUS_ID, SOURCE_ID, HONORIFIC). With the portal's codes: one of them (any case → the portal's
 * spelling). Without: any code-like text (names with spaces are refused: the portal wants codes).
 */
export function statusParser(code: string, codes: readonly string[] | undefined): Parser {
  if (!codes) {
    return (v) => (STATUS_CODE.test(v) ? v : new Bad(`${quote(v)} is not a ${code} code (codes look like NEW, IN_PROCESS, UC_1A2B3C)`));
  }
  const exact = new Set(codes);
  const folded = new Map(codes.map((c) => [c.toUpperCase(), c]));
  return (v) => {
    if (exact.has(v)) return v;
    const known = folded.get(v.toUpperCase());
    if (known !== undefined) return known;
    return new Bad(
      `${quote(v)} is not a known ${code}; ${codes.length ? `allowed: ${listed(codes)}` : 'the portal lists no codes for it'}`,
    );
  };
}

/** Enumeration fields with known items: the item ID or its label (any case) → the ID. */
export function enumParser(items: readonly { ID: string; VALUE: string }[]): Parser {
  const ids = new Set(items.map((i) => String(i.ID)));
  const labels = new Map<string, string>();
  for (const item of items) if (!labels.has(item.VALUE.trim().toLowerCase())) labels.set(item.VALUE.trim().toLowerCase(), String(item.ID));
  const allowed = listed(items.map((i) => `${i.VALUE} (${i.ID})`));
  return (v) => {
    if (ids.has(v)) return v;
    return labels.get(v.toLowerCase()) ?? new Bad(`${quote(v)} is not one of the allowed values: ${allowed}`);
  };
}
