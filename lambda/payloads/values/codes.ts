import { quote } from '../quote.ts';
import type { PortalUser } from '../../types.ts';
import { Bad, type Parser } from './parser.ts';

/** crm_currency offline: three letters → upper case. */
export const parseCurrency: Parser = (v) => {
  if (/^[A-Za-z]{3}$/.test(v)) return v.toUpperCase();
  return new Bad(`${quote(v)} is not a currency code (three letters, e.g. RUB, USD, EUR)`);
};

/**
 * crm_currency with the portal's currencies (code → full name, crm.currency.list): a code of the list (any
 * case) or a currency's name (`US Dollar`, `Российский рубль`, any case and spacing) → the code; anything else
 * is refused with the list as `CODE (name)`. Without the list: `parseCurrency`.
 */
export function currencyParser(currencies: Readonly<Record<string, string>> | undefined): Parser {
  if (!currencies) return parseCurrency;
  return namedCodeParser(Object.entries(currencies), (v, allowed) => `${quote(v)} is not a currency of the portal; allowed: ${allowed}`);
}

const STATUS_CODE = /^[A-Za-z0-9_.:-]+$/;
/** Lists longer than this are cut in messages. */
const LIST_MAX = 30;

function listed(values: readonly string[]): string {
  return values.length > LIST_MAX ? `${values.slice(0, LIST_MAX).join(', ')}, … (${values.length} in all)` : values.join(', ');
}

/** A name as cells and lists are compared: case-insensitive, runs of spaces as one. */
function nameKey(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * crm_status (STATUS_ID, SOURCE_ID, HONORIFIC). With the portal's codes: one of them (any case → the portal's
 * spelling), or, with their names (crm.status.list NAME: `Не обработан`, `Звонок`), a name → its code; a name
 * two codes share is refused with both. Refusals list `CODE (name)`. Without codes: any code-like text (names
 * with spaces are refused: the portal wants codes, and offline nobody can tell which).
 */
export function statusParser(code: string, codes: readonly string[] | undefined, names?: Readonly<Record<string, string>>): Parser {
  if (!codes) {
    return (v) =>
      STATUS_CODE.test(v)
        ? v
        : new Bad(`${quote(v)} is not a ${code} code (codes look like NEW, IN_PROCESS, UC_1A2B3C; names need the webhook)`);
  }
  const entries = codes.map((c): [string, string] => [c, names?.[c] ?? '']);
  return namedCodeParser(entries, (v, allowed) =>
    codes.length
      ? `${quote(v)} is not a known ${code}; allowed: ${allowed}`
      : `${quote(v)} is not a known ${code}; the portal lists no codes for it`,
  );
}

/** Code or name → code, over [code, name] pairs; `refuse` gets the cell and the `CODE (name)` list. */
function namedCodeParser(entries: readonly (readonly [string, string])[], refuse: (v: string, allowed: string) => string): Parser {
  const exact = new Set(entries.map(([c]) => c));
  const folded = new Map(entries.map(([c]) => [c.toUpperCase(), c]));
  const byName = new Map<string, string[]>();
  for (const [c, name] of entries) {
    const key = nameKey(name);
    if (key === '') continue;
    byName.set(key, [...(byName.get(key) ?? []), c]);
  }
  const shown = (c: string) => {
    const name = entries.find(([k]) => k === c)?.[1];
    return name ? `${c} (${name})` : c;
  };
  const allowed = listed(entries.map(([c]) => shown(c)));
  return (v) => {
    if (exact.has(v)) return v;
    const known = folded.get(v.toUpperCase());
    if (known !== undefined) return known;
    const named = byName.get(nameKey(v));
    if (named?.length === 1) return named[0];
    if (named) return new Bad(`${quote(v)} names several codes: ${named.map(shown).join(', ')}; write the code`);
    return new Bad(refuse(v, allowed));
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

/** A user as messages show it: `12 (Ann Lee, ann@example.com)`. */
function userShown(u: PortalUser): string {
  const name = [u.NAME, u.LAST_NAME].filter(Boolean).join(' ');
  const parts = [name, u.EMAIL].filter(Boolean).join(', ');
  return parts ? `${u.ID} (${parts})` : u.ID;
}

/** Every way a cell may name this user: `Ann Lee`, `Lee Ann`, with the middle name, the e-mail. */
function userKeys(u: PortalUser): string[] {
  const [n, s, l] = [u.NAME ?? '', u.SECOND_NAME ?? '', u.LAST_NAME ?? ''].map((x) => x.trim());
  const forms = [`${n} ${l}`, `${l} ${n}`, `${n} ${s} ${l}`, `${l} ${n} ${s}`, u.EMAIL ?? ''];
  return [...new Set(forms.map(nameKey).filter((k) => k !== ''))];
}

/**
 * user fields (ASSIGNED_BY_ID) with the portal's users (user.get): the user ID as `byId` reads it, or a name
 * (`Ann Lee`, `Lee Ann`, with the middle name) or an e-mail, any case → the ID; a name several users share is
 * refused with the candidates. Without the list: `byId` alone.
 */
export function userParser(users: readonly PortalUser[] | undefined, byId: Parser): Parser {
  if (!users) return byId;
  const byKey = new Map<string, PortalUser[]>();
  for (const u of users) for (const k of userKeys(u)) byKey.set(k, [...(byKey.get(k) ?? []), u]);
  return (v) => {
    // Anything number-like is an ID, judged (and explained) by the ID parser.
    if (/^[+-]?[\d.,]+$/.test(v.trim())) return byId(v);
    const found = byKey.get(nameKey(v));
    if (found?.length === 1) return Number(found[0].ID);
    if (found) return new Bad(`${quote(v)} names several users: ${found.map(userShown).join(', ')}; write the user ID`);
    return new Bad(`${quote(v)} is not a user of the portal (by ID, name or e-mail)`);
  };
}
