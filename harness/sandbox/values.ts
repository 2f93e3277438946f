/**
 * How the portal stores and prints scalar values: numbers as strings ("12", "12500.00"), dates as ISO
 * datetimes in the server's offset ("1990-05-17T03:00:00+03:00"), an empty date as "".
 * The sandbox keeps every value already in its printed form, so crm.lead.get/list only copy.
 */
import { phpFloat, phpInt } from './query.ts';

/** "+03:00" for 180. */
export function offsetText(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** An instant (ms) printed as the portal does: ISO 8601 with the server offset, no fraction. */
export function isoAt(ms: number, offsetMinutes: number): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${offsetText(offsetMinutes)}`
  );
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const RU_RE = /^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/;

interface ParsedDate {
  y: number;
  m: number;
  d: number;
  h: number;
  i: number;
  s: number;
  /** Offset in minutes when the text carried one. */
  offset?: number;
}

/** Accepts YYYY-MM-DD, ISO datetimes (with or without offset) and the site format dd.mm.yyyy [hh:mm:ss]. */
export function parseDateText(text: string): ParsedDate | undefined {
  const t = text.trim();
  let p: ParsedDate | undefined;
  const iso = ISO_RE.exec(t);
  if (iso) {
    p = { y: +iso[1], m: +iso[2], d: +iso[3], h: +(iso[4] ?? 0), i: +(iso[5] ?? 0), s: +(iso[6] ?? 0) };
    const z = iso[7];
    if (z) p.offset = z === 'Z' ? 0 : (z[0] === '-' ? -1 : 1) * (+z.slice(1, 3) * 60 + +z.slice(-2));
  } else {
    const ru = RU_RE.exec(t);
    if (ru) p = { y: +ru[3], m: +ru[2], d: +ru[1], h: +(ru[4] ?? 0), i: +(ru[5] ?? 0), s: +(ru[6] ?? 0) };
  }
  if (!p) return undefined;
  const check = new Date(Date.UTC(p.y, p.m - 1, p.d));
  if (check.getUTCFullYear() !== p.y || check.getUTCMonth() !== p.m - 1 || check.getUTCDate() !== p.d) return undefined;
  if (p.h > 23 || p.i > 59 || p.s > 59) return undefined;
  return p;
}

/**
 * A `date` field: the calendar date as written (a text with an offset: its date in server time, as
 * unConvertDate takes it), printed the way ConvertDate prints date-only values: midnight UTC shown in the
 * server offset, e.g. "1990-05-17T03:00:00+03:00" on +03:00 but "1990-05-16T19:00:00-05:00" on -05:00.
 * undefined = the text is not a date (the field is left unchanged).
 */
export function formatDate(text: string, offsetMinutes: number): string | undefined {
  if (text.trim() === '') return '';
  const p = parseDateText(text);
  if (!p) return undefined;
  if (p.offset === undefined) return isoAt(Date.UTC(p.y, p.m - 1, p.d), offsetMinutes);
  // unConvertDate: strtotime() of the text, then its calendar date in server time.
  const local = new Date(Date.UTC(p.y, p.m - 1, p.d, p.h, p.i, p.s) - p.offset * 60_000 + offsetMinutes * 60_000);
  return isoAt(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()), offsetMinutes);
}

/** A `datetime` field: converted to the server offset (text without an offset is taken as server time). */
export function formatDateTime(text: string, offsetMinutes: number): string | undefined {
  if (text.trim() === '') return '';
  const p = parseDateText(text);
  if (!p) return undefined;
  const off = p.offset ?? offsetMinutes;
  return isoAt(Date.UTC(p.y, p.m - 1, p.d, p.h, p.i, p.s) - off * 60_000, offsetMinutes);
}

/** Integer-like types as the portal prints them: PHP int cast, as a string; '' clears to null. */
export function formatInt(v: unknown): string | null {
  if (v === '' || v === null) return null;
  return String(phpInt(v));
}

/**
 * `double` (OPPORTUNITY, DECIMAL(18,2)): two decimals, as a string. PHP casts the value to a float and writes it
 * into the SQL as its shortest decimal text ("1.005"); MySQL rounds that text to the column's scale half away from
 * zero, so 1.005 is stored 1.01 (a binary toFixed(2) would say 1.00, since the double is 1.00499…).
 */
export function formatMoney(v: unknown): string {
  return decimalAtScale(String(phpFloat(v)), 2);
}

/** A decimal text ("10.005", "1e-7") rounded to `scale` places half away from zero, printed with exactly that many. */
function decimalAtScale(text: string, scale: number): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!m) return (0).toFixed(scale);
  const [, minus, int, frac = '', exp = '0'] = m;
  const digits = BigInt(int + frac);
  const shift = Number(exp) - frac.length + scale; // value × 10^scale = digits × 10^shift
  let units: bigint;
  if (shift >= 0) units = digits * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    units = digits / divisor;
    if ((digits % divisor) * 2n >= divisor) units += 1n;
  }
  const body = units.toString().padStart(scale + 1, '0');
  const out = scale > 0 ? `${body.slice(0, -scale)}.${body.slice(-scale)}` : body;
  return minus && units !== 0n ? `-${out}` : out;
}

/** A scalar request value as text; objects/arrays are not scalars (undefined). */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '';
  if (v === null) return '';
  return undefined;
}
