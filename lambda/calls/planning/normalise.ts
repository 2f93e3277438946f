import type { FieldSpec } from '../../types.ts';
import { phoneKey } from './phoneKey.ts';

/**
 * Canonical forms for comparing what the portal returns (crm.lead.list / crm.lead.get) with what a row
 * would send. The portal answers in its own shapes: numbers as strings ("12500.00"), ids as strings,
 * "0" for "no company", null or "" for empty text, "" for an empty date, dates as midnight UTC printed in the
 * server's offset ("1990-05-17T03:00:00+03:00", or "1990-05-16T19:00:00-05:00", for the date 1990-05-17), booleans of custom fields as
 * true/false or "1"/"0". Two values are equal when their canonical forms are equal.
 *
 * A comparison that cannot tell (an unparsable number, a type we do not know) falls back to the exact
 * text: the cost of a false "different" is one redundant write, the cost of a false "equal" is a lost
 * update, so every doubt resolves to "different".
 */

/** Canonical text of one scalar value for a field of type `type`. Empty values are ''. */
export function normaliseScalar(type: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => normaliseScalar(type, v)).join('\u0000');
  if (typeof value === 'boolean') {
    if (booleanType(type) || type === 'char') return value ? '1' : '0';
    // PHP prints an empty user field as false.
    return value ? 'true' : '';
  }
  const text = typeof value === 'number' ? numberText(value) : String(value);
  switch (type) {
    case 'double':
      return number(text);
    case 'integer':
    case 'user':
    case 'employee':
    case 'crm_company':
    case 'crm_contact':
    case 'iblock_element':
    case 'iblock_section':
      return id(text);
    case 'date':
      return date(text);
    case 'datetime':
      return datetime(text);
    case 'char':
    case 'boolean':
      return flag(text);
    case 'crm_currency':
      return text.trim().toUpperCase();
    case 'money':
      return money(text);
    case 'enumeration':
    case 'crm_status':
      return text.trim();
    default:
      // Text: the portal keeps it as sent; null and "" both mean empty (handled above / here).
      return text;
  }
}

/**
 * True when the portal's value and the row's value mean the same for this field.
 * Datetimes: when both carry an offset they compare as instants; when either lacks one (a row without an
 * offset is read in the server's zone) the wall-clock parts compare ("2024-05-23T18:18:25+02:00" ≡
 * "2024-05-23T18:18:25"; a bare date means midnight).
 */
export function sameValue(spec: Pick<FieldSpec, 'code' | 'type' | 'multiple'>, portal: unknown, row: unknown): boolean {
  if (spec.type === 'datetime' && !spec.multiple && !Array.isArray(row)) {
    const a = portal === null || portal === undefined ? '' : String(portal).trim();
    const b = row === null || row === undefined ? '' : String(row).trim();
    if (a === '' || b === '') return a === b;
    if (hasOffset(a) && hasOffset(b)) return datetime(a) === datetime(b);
    return wallClock(a) === wallClock(b);
  }
  return normaliseValue(spec, portal) === normaliseValue(spec, row);
}

function hasOffset(t: string): boolean {
  return /(Z|[+-]\d{2}:?\d{2})$/.test(t) && /T\d{2}:/.test(t);
}

/** "2024-05-23T18:18:25+02:00" → "2024-05-23T18:18:25"; "2024-05-23" → "2024-05-23T00:00:00". */
function wallClock(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(t);
  if (!m) return t;
  return `${m[1]}T${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}`;
}

/**
 * Canonical form of a whole field value (scalar or multiple). Multiple custom fields compare as sets
 * (the portal may return the values in its own order); CONTACT_IDS compares in order because its first
 * element is the lead's primary contact (CONTACT_ID).
 */
export function normaliseValue(spec: Pick<FieldSpec, 'code' | 'type' | 'multiple'>, value: unknown): string {
  if (!spec.multiple && !Array.isArray(value)) return normaliseScalar(spec.type, value);
  const list = (Array.isArray(value) ? value : value === null || value === undefined || value === '' ? [] : [value])
    .map((v) => normaliseScalar(spec.type, v))
    .filter((v) => v !== '');
  if (spec.code !== 'CONTACT_IDS') list.sort();
  return list.join('\u0000');
}

function booleanType(type: string): boolean {
  return type === 'boolean';
}

/** A JS number as the portal would write it (no exponent for ordinary amounts). */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : '';
}

/** "12500.00", "12500", "12 500,00" → "12500"; "0.50" → "0.5". Unparsable text stays as is. */
function number(text: string): string {
  const t = text.trim().replace(/[\s\u00a0]/g, '');
  if (t === '') return '';
  const dotted = /^-?\d+,\d+$/.test(t) ? t.replace(',', '.') : t;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(dotted)) return text;
  const n = Number(dotted);
  return Number.isFinite(n) ? String(n) : text;
}

/** Ids: "42" ≡ 42 ≡ "042"; "0" and "" both mean "none" (COMPANY_ID comes back "0" when unset). */
function id(text: string): string {
  const t = text.trim();
  if (t === '' || /^0+$/.test(t)) return '';
  if (/^\d+$/.test(t)) return t.replace(/^0+/, '');
  return t;
}

/**
 * Dates: the portal prints a date with ConvertDate = date('c', MakeTimeStamp(d) + date('Z')): midnight UTC of
 * the date, shown in the server's offset. On +03:00 1990-05-17 reads "1990-05-17T03:00:00+03:00", on -05:00
 * "1990-05-16T19:00:00-05:00": the literal date part is the day before. So a printed value with an offset is
 * taken as an instant and rounded to the NEAREST UTC midnight (which also absorbs an hour of DST between the
 * offset then and now). A bare "1990-05-17" (rows, or a value without an offset) is its own date; "" is empty.
 * Anything else stays as written.
 */
function date(text: string): string {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$/.exec(t);
  if (!m) return t;
  if (!/[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) return m[1];
  const ms = Date.parse(t.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (!Number.isFinite(ms)) return t;
  return new Date(Math.round(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

const DAY_MS = 86_400_000;

/**
 * Datetimes compare as instants when both sides carry an offset ("2024-05-23T18:18:25+02:00" ≡
 * "2024-05-23T16:18:25Z"). Without an offset the text is kept (the server zone is unknown here).
 */
function datetime(text: string): string {
  const t = text.trim();
  if (t === '') return '';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return t;
}

/** Y/N chars and custom booleans: Y, y, 1, true → "1"; N, n, 0, false → "0". */
function flag(text: string): string {
  const t = text.trim().toLowerCase();
  if (t === '') return '';
  if (t === 'y' || t === '1' || t === 'true' || t === 'yes') return '1';
  if (t === 'n' || t === '0' || t === 'false' || t === 'no') return '0';
  return text;
}

/** Custom money fields travel as "amount|CUR" ("100.00|usd" ≡ "100|USD"). */
function money(text: string): string {
  const t = text.trim();
  if (t === '') return '';
  const cut = t.indexOf('|');
  if (cut < 0) return number(t);
  return `${number(t.slice(0, cut))}|${t
    .slice(cut + 1)
    .trim()
    .toUpperCase()}`;
}

/**
 * Canonical value of a multifield entry, per multifield type:
 * - PHONE: the E.164 number read with `phoneCountry` as the default country (phoneKey.ts): the portal stores
 *   whatever was typed, and `8 (912) 345-67-89`, `+7 912 345-67-89` and `79123456789` are one phone; an
 *   extension counts in one spelling. A number that is not a possible one compares by its digits ("+1 555" ≡
 *   "1555").
 * - EMAIL: trimmed, case-insensitive (the local part is case-sensitive in theory, never in practice).
 * - WEB: scheme (http/https), "www." and trailing slashes dropped, host case-insensitive; path kept.
 * - IM and others: trimmed, case-insensitive.
 */
export function normaliseMulti(type: string, value: string, phoneCountry?: string): string {
  const t = (value ?? '').trim();
  switch (type) {
    case 'PHONE':
      return phoneKey(t, phoneCountry);
    case 'EMAIL':
      return t.toLowerCase();
    case 'WEB': {
      const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)(.*)$/i.exec(t);
      if (!m) return t.toLowerCase();
      const host = m[1].toLowerCase().replace(/^www\./, '');
      const rest = m[2].replace(/\/+$/, '');
      return host + rest;
    }
    default:
      return t.toLowerCase();
  }
}
