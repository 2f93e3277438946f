/**
 * PHP-style query strings for batch commands: `crm.lead.update?id=5&fields[PHONE][0][VALUE]=…`.
 * The portal runs each command string through parse_str, so keys AND values are percent-encoded
 * (`[` → %5B, `>=` → %3E%3D, `&` → %26, `+` → %2B, space → %20, non-ASCII as UTF-8 bytes). Empty strings are
 * kept (`fields[TITLE]=` clears the field); arrays are indexed `[0]`, `[1]`; undefined is left out; null
 * becomes '' (a clear); booleans become Y/N, as Bitrix24 flags are.
 */

export type QueryValue = string | number | boolean | null | undefined | QueryValue[] | { [key: string]: QueryValue };

/** Percent-encodes like RFC 3986 (encodeURIComponent plus the few characters it leaves alone). */
export function encodeComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * @example toQuery({ id: 5, fields: { TITLE: 'A&B', PHONE: [{ VALUE: '+1 5', VALUE_TYPE: 'WORK' }] } })
 * // → 'id=5&fields%5BTITLE%5D=A%26B&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B1%205&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK'
 */
export function toQuery(params: Record<string, QueryValue>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) walk(k, v, parts);
  return parts.join('&');
}

function walk(key: string, value: QueryValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(`${key}[${i}]`, v, out);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walk(`${key}[${k}]`, v, out);
    return;
  }
  out.push(`${encodeComponent(key)}=${encodeComponent(scalar(value))}`);
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'Y' : 'N';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot encode the number ${v}`);
    return String(v);
  }
  return v;
}

/** One batch command: `method?query`. */
export function command(method: string, params: Record<string, QueryValue>): string {
  const q = toQuery(params);
  return q ? `${method}?${q}` : method;
}

/**
 * The same values for a JSON body (a direct call): what the portal reads is what a batch command would have
 * carried (null → '', booleans → Y/N, numbers as text; undefined left out), nesting kept.
 */
export function jsonParams(value: QueryValue): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(jsonParams);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, jsonParams(v)]])));
  }
  return scalar(value);
}
