import type { RunOptions } from '../../config.ts';
import { quote } from '../quote.ts';
import { Bad, type Parser } from './parser.ts';

/** How slash dates (`3/5/1990`) are read: 'auto' takes only the ones with one possible reading. */
export type DateOrder = RunOptions['dateOrder'];

const ISO_DATE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/;
const DOT_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
/** A date, then optionally a time (`T` or space), seconds, a fraction, AM/PM (US Excel), an offset. */
const WITH_TIME = /^(\S+?)(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 1 || m < 1 || m > 12 || d < 1) return undefined;
  const days = m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  if (d > days) return undefined;
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** y/m/d of a date written YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY or with slashes (by `order`); a reason when it is none. */
function dateParts(v: string, order: DateOrder): [number, number, number] | 'ambiguous' | undefined {
  let m = ISO_DATE.exec(v);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  m = DOT_DATE.exec(v);
  if (m) return [Number(m[3]), Number(m[2]), Number(m[1])];
  m = SLASH_DATE.exec(v);
  if (!m) return undefined;
  const [a, b, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (order === 'DMY') return [y, b, a];
  if (order === 'MDY') return [y, a, b];
  // Only one reading is a date (25/3/1990, 3/25/1990), or both are the same day (5/5/1990).
  if (a > 12 || a === b) return [y, b, a];
  if (b > 12) return [y, a, b];
  return 'ambiguous';
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function ambiguousDate(v: string): Bad {
  const [a, b, y] = v.split('/').map(Number);
  const iso = (m: number, d: number) => isoDate(y, m, d) as string;
  return new Bad(
    `${quote(v)} is ambiguous (${a} ${MONTHS[b - 1]} or ${MONTHS[a - 1]} ${b}?): write ${iso(b, a)} or ${iso(a, b)}, ` +
      'or run with --date-order DMY (day first) or --date-order MDY (month first)',
  );
}

interface Written {
  date: string;
  time?: { h: number; min: number; sec: number };
  offset: string;
}

/** A date (and time) cell split and checked; Bad with the reason. */
function readDateTime(v: string, order: DateOrder, what: string): Written | Bad {
  const m = WITH_TIME.exec(v);
  const parts = m ? dateParts(m[1], order) : undefined;
  if (parts === 'ambiguous') return ambiguousDate(m![1]);
  if (!m || !parts) return new Bad(`${quote(v)} is not ${what}`);
  const date = isoDate(...parts);
  if (!date) return new Bad(`${quote(v)} is not a real date`);
  let offset = m[6] ?? '';
  if (offset === 'Z') offset = '+00:00';
  else if (offset.length === 5) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  if (m[2] === undefined) return { date, offset };
  let h = Number(m[2]);
  const [min, sec] = [Number(m[3]), Number(m[4] ?? 0)];
  const half = m[5]?.toUpperCase();
  if (half) {
    if (h < 1 || h > 12) return new Bad(`${quote(v)} is not a real time of day`);
    h = (h % 12) + (half === 'PM' ? 12 : 0);
  }
  if (h > 23 || min > 59 || sec > 59) return new Bad(`${quote(v)} is not a real time of day`);
  return { date, time: { h, min, sec }, offset };
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * `date` fields: YYYY-MM-DD, DD.MM.YYYY or a slash date → YYYY-MM-DD; impossible dates (2023-02-30) are refused.
 * A time is allowed when it is midnight (`1990-03-05T00:00:00+03:00`, `05.03.1990 0:00:00`, as exports write
 * date fields): the date is taken as written. Any other time is refused: the portal keeps only the date.
 */
export function dateParser(order: DateOrder): Parser {
  return (v) => {
    const r = readDateTime(v, order, 'a date (YYYY-MM-DD or DD.MM.YYYY)');
    if (r instanceof Bad || !r.time) return r instanceof Bad ? r : r.date;
    const { h, min, sec } = r.time;
    if (h === 0 && min === 0 && sec === 0) return r.date;
    return new Bad(
      `${quote(v)} has a time of day (${two(h)}:${two(min)}) but the field holds a date only: write the date alone (${r.date})`,
    );
  };
}

/**
 * `datetime` fields: ISO 8601 (offset optional), `YYYY-MM-DD HH:MM[:SS]`, `DD.MM.YYYY HH:MM[:SS]`, a slash
 * date, `h:mm AM/PM`, or a date alone → `YYYY-MM-DDTHH:MM:SS[±HH:MM]` (no offset: the portal's time zone applies).
 */
export function dateTimeParser(order: DateOrder): Parser {
  return (v) => {
    const r = readDateTime(v, order, 'a date and time (YYYY-MM-DDTHH:MM:SS+03:00 or DD.MM.YYYY HH:MM)');
    if (r instanceof Bad || !r.time) return r instanceof Bad ? r : r.date;
    const { h, min, sec } = r.time;
    return `${r.date}T${two(h)}:${two(min)}:${two(sec)}${r.offset}`;
  };
}
