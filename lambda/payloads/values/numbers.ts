import { quote } from '../quote.ts';
import { ambiguousMark, type MarkSetting } from './decimalMark.ts';
import { Bad, type Parser } from './parser.ts';

const INTEGER = /^[+-]?\d+$/;

/** Custom integer fields: any whole number in the safe range. */
export const parseInteger: Parser = (v) => {
  if (INTEGER.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    return new Bad(`${quote(v)} is too large for a whole number`);
  }
  return new Bad(`${quote(v)} is not a whole number`);
};

const EXPONENT = /^(\d+\.?\d*|\.\d+)[eE]([+-]?\d+)$/;
/** `1 234 567,5`: space, nbsp or narrow nbsp groups (Russian Excel); then the mark, whichever it is, is the decimal one. */
const SPACE_GROUPED = /^(\d{1,3}(?:[ \u00A0\u202F\u2009]\d{3})+)(?:[.,](\d+))?$/;
const SPACES = /[ \u00A0\u202F\u2009]/g;

/**
 * An amount (currency sign already removed) as a plain decimal text: `1234.56`, `1234,56`, `1 234,56`,
 * `1,234.56`, `1.234,56`, `1,234,567`, `1e5` → `1234.56`…; Bad when it is no number, or when it is ambiguous
 * (`12,500`, `1.234`) and `mark` does not settle it.
 */
export function amountText(v: string, mark: MarkSetting, shown: string = v): string | Bad {
  const minus = v.startsWith('-') ? '-' : '';
  const body = /^[+-]/.test(v) ? v.slice(1) : v;
  const parts = numberParts(body, mark);
  if (parts === 'ambiguous') return ambiguity(v, shown);
  if (!parts) return new Bad(`${quote(shown)} is not a number`);
  const int = parts[0].replace(/^0+(?=\d)/, '') || '0';
  const frac = parts[1].replace(/0+$/, '');
  const text = frac ? `${int}.${frac}` : int;
  return minus && /[1-9]/.test(text) ? `-${text}` : text;
}

/** Integer and fraction digits of an unsigned amount; 'ambiguous' for `12,500` under 'auto'. */
function numberParts(body: string, mark: MarkSetting): [string, string] | 'ambiguous' | undefined {
  const e = EXPONENT.exec(body);
  if (e) return shifted(e[1], Number(e[2]));
  const spaced = SPACE_GROUPED.exec(body);
  if (spaced) return [spaced[1].replace(SPACES, ''), spaced[2] ?? ''];
  const comma = body.lastIndexOf(',');
  const dot = body.lastIndexOf('.');
  if (comma >= 0 && dot >= 0) {
    const [group, decimal] = comma > dot ? ['.', ','] : [',', '.'];
    const m = new RegExp(`^(\\d{1,3}(?:\\${group}\\d{3})*)\\${decimal}(\\d+)$`).exec(body);
    return m ? [m[1].split(group).join(''), m[2]] : undefined;
  }
  const sep = comma >= 0 ? ',' : dot >= 0 ? '.' : undefined;
  if (!sep) return /^\d+$/.test(body) ? [body, ''] : undefined;
  if (body.indexOf(sep) !== body.lastIndexOf(sep)) {
    return new RegExp(`^\\d{1,3}(?:\\${sep}\\d{3}){2,}$`).test(body) ? [body.split(sep).join(''), ''] : undefined;
  }
  const [a, b] = body.split(sep);
  if (!/^\d*$/.test(a) || !/^\d*$/.test(b) || a + b === '') return undefined;
  if (ambiguousMark(body)) {
    if (mark === 'auto') return 'ambiguous';
    return mark === sep ? [a, b] : [a + b, ''];
  }
  return [a, b];
}

/** `1.5e3` → ['1500', '']: the exponent moves the point in the digits, so nothing is lost to binary floats. */
function shifted(mantissa: string, exponent: number): [string, string] | undefined {
  if (Math.abs(exponent) > 400) return undefined;
  const [a, b = ''] = mantissa.split('.');
  const digits = a + b;
  const point = a.length + exponent;
  if (point <= 0) return ['0', '0'.repeat(-point) + digits];
  if (point >= digits.length) return [digits + '0'.repeat(point - digits.length), ''];
  return [digits.slice(0, point), digits.slice(point)];
}

/** `"12,500" is ambiguous (12500 or 12.5?): write 12500 or 12,500.00 for thousands, 12,5 for decimals, or …` */
function ambiguity(v: string, shown: string): Bad {
  const sep = ambiguousMark(v) as string;
  const sign = /^[+-]/.test(v) ? v[0] : '';
  const [a, b] = v.slice(sign.length).split(sep);
  const other = sep === ',' ? '.' : ',';
  const frac = b.replace(/0+$/, '');
  const decimals = frac === '' ? a : `${a}${sep}${frac.length === 3 ? `${frac}0` : frac}`;
  return new Bad(
    `${quote(shown)} is ambiguous (${sign}${a}${b} or ${sign}${frac ? `${a}.${frac}` : a}?): write ${sign}${a}${b} or ${sign}${a}${sep}${b}${other}00 ` +
      `for thousands, ${sign}${decimals} for decimals, or run with --decimal-mark ${sep} if "${sep}" is this file's decimal ` +
      `mark (--decimal-mark ${other} if it separates thousands)`,
  );
}

/** Amounts with the decimal mark settled by `mark` ('auto': ambiguous ones refused). Normalised to a number. */
export function doubleParser(mark: MarkSetting): Parser {
  return (v) => {
    const text = amountText(v, mark);
    if (text instanceof Bad) return text;
    const n = Number(text);
    return Number.isFinite(n) ? n : new Bad(`${quote(v)} is not a number`);
  };
}

/** What CCrmLead::CheckFields takes for OPPORTUNITY; anything else refuses the whole update. */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Whether an OPPORTUNITY value travels as a plain decimal: the batch encoder prints numbers with String(),
 * which writes 1e+21 in exponent form, and the portal would refuse that. -0 goes as 0.
 */
export function plainDecimalProblem(v: string, amount: number): Bad | undefined {
  if (PLAIN_DECIMAL.test(String(amount))) return undefined;
  return new Bad(
    `${quote(v)} cannot be sent as a plain decimal (it would travel as ${String(amount)}; the portal takes amounts like 1234.56 and would refuse the whole update)`,
  );
}
