import { quote } from '../quote.ts';
import { Bad, type Parser } from './parser.ts';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const RU_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 1 || m < 1 || m > 12 || d < 1) return undefined;
  const days = m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  if (d > days) return undefined;
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** Split a date cell into y/m/d (ISO or DD.MM.YYYY), without checking the calendar. */
function dateParts(v: string): [number, number, number] | undefined {
  let m = ISO_DATE.exec(v);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  m = RU_DATE.exec(v);
  if (m) return [Number(m[3]), Number(m[2]), Number(m[1])];
  return undefined;
}

/** `date` fields: YYYY-MM-DD or DD.MM.YYYY → YYYY-MM-DD; impossible dates (2023-02-30) are refused. */
export const parseDate: Parser = (v) => {
  const parts = dateParts(v);
  if (!parts) return new Bad(`${quote(v)} is not a date (YYYY-MM-DD or DD.MM.YYYY)`);
  return isoDate(...parts) ?? new Bad(`${quote(v)} is not a real date`);
};

const DATETIME = /^(\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `datetime` fields: ISO 8601 (offset optional), `YYYY-MM-DD HH:MM[:SS]` or `DD.MM.YYYY HH:MM[:SS]`, or a
 * date alone → `YYYY-MM-DDTHH:MM:SS[±HH:MM]` (no offset: the portal's time zone applies).
 */
export const parseDateTime: Parser = (v) => {
  const m = DATETIME.exec(v);
  const parts = m ? dateParts(m[1]) : undefined;
  if (!m || !parts) return new Bad(`${quote(v)} is not a date and time (YYYY-MM-DDTHH:MM:SS+03:00 or DD.MM.YYYY HH:MM)`);
  const date = isoDate(...parts);
  if (!date) return new Bad(`${quote(v)} is not a real date`);
  if (m[2] === undefined) return date;
  const [h, min, sec] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (h > 23 || min > 59 || sec > 59) return new Bad(`${quote(v)} is not a real time of day`);
  let offset = m[5] ?? '';
  if (offset === 'Z') offset = '+00:00';
  else if (offset.length === 5) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${date}T${two(h)}:${two(min)}:${two(sec)}${offset}`;
};
