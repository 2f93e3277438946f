/**
 * A number cell's text as the workbook stores it (`<v>79123456789</v>`), kept apart from text cells so it can be
 * written as a plain decimal: read as a JS number and printed, a phone would survive, but a formula's
 * 1234.5600000000002 or a stored `7.9123456789E10` would not read as the user sees the cell.
 */
export class NumberText {
  constructor(readonly stored: string) {}
}

/** A cell as the workbook reader gives it (read-excel-file, with numbers as NumberText). */
export type SheetCell = string | NumberText | Date | boolean | null | undefined;

/** Excel computes and shows 15 significant digits; the 16th and 17th of a stored double are binary noise. */
const EXCEL_DIGITS = 15;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * The text a cell goes into the CSV as: numbers as plain decimals without any display format (a percentage as
 * its fraction, an amount without its currency or thousands separators), dates as ISO 8601 (a date alone when
 * the time is midnight), booleans as TRUE/FALSE as Excel writes them in a CSV, text exactly as written.
 *
 * @example cellText(new NumberText('7.9123456789E10')) // → '79123456789'
 * @example cellText(new Date(Date.UTC(1990, 2, 5))) // → '1990-03-05'
 */
export function cellText(cell: SheetCell): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof NumberText) return plainDecimal(cell.stored);
  if (cell instanceof Date) return isoDate(cell);
  if (typeof cell === 'boolean') return cell ? 'TRUE' : 'FALSE';
  return cell;
}

/**
 * A stored number as a plain decimal, rounded to Excel's 15 significant digits: '1234.5600000000002' →
 * '1234.56', '1E-3' → '0.001', '7.9123456789E10' → '79123456789'. Text that is not a number stays as it is.
 */
export function plainDecimal(stored: string): string {
  const text = stored.trim();
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return stored;
  const significant = `${m[2]}${m[3] ?? ''}`.replace(/^0+/, '').replace(/0+$/, '');
  const exact = significant.length > EXCEL_DIGITS ? DECIMAL.exec(Number(text).toPrecision(EXCEL_DIGITS)) : m;
  if (!exact) return stored;
  return expand(exact[1], exact[2], exact[3] ?? '', Number(exact[4] ?? 0));
}

/** sign, integer digits, fraction digits and a power of ten → the same number without an exponent. */
function expand(sign: string, int: string, frac: string, exponent: number): string {
  const digits = int + frac;
  const point = int.length + exponent;
  let whole: string;
  let fraction: string;
  if (point <= 0) {
    whole = '0';
    fraction = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length);
    fraction = '';
  } else {
    whole = digits.slice(0, point);
    fraction = digits.slice(point);
  }
  whole = whole.replace(/^0+(?=\d)/, '');
  fraction = fraction.replace(/0+$/, '');
  const body = fraction ? `${whole}.${fraction}` : whole;
  return sign === '-' && /[1-9]/.test(body) ? `-${body}` : body;
}

/** A date cell as yyyy-mm-dd, or yyyy-mm-ddThh:mm:ss when it has a time (to the second, as Excel shows it). */
function isoDate(date: Date): string {
  // The reader gives the cell's wall-clock time as UTC; a stored fraction of a day may fall a hair short of a second.
  const d = new Date(Math.round(date.getTime() / 1000) * 1000);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const day = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0) return day;
  return `${day}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
