/**
 * PHP-style parameter parsing, as the portal's `parse_str` / `$_POST` see a query string or a form body:
 * `fields[PHONE][0][VALUE]=…`, `filter[@ID][]=1`, `+` is a space, `%26` an ampersand.
 * Nested keys build plain objects keyed by strings; `[]` appends the next integer key (max + 1), like PHP.
 * Callers that want a list use `asList`, which accepts both a JSON array and a PHP-style object keyed 0,1,….
 */

export type PhpValue = string | PhpObject;
export interface PhpObject {
  [key: string]: PhpValue;
}

/** Decodes one form-encoded component; a malformed escape is kept as is (PHP does the same). */
export function formDecode(s: string): string {
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Splits a decoded key `a[b][]` into ['a', 'b', ''] the way PHP does (unclosed '[' makes the rest literal). */
export function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [phpBaseName(key)];
  const parts = [phpBaseName(key.slice(0, open))];
  let rest = key.slice(open);
  while (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) break;
    parts.push(rest.slice(1, close));
    rest = rest.slice(close + 1);
  }
  return parts;
}

/** PHP turns spaces and dots in the top-level name into underscores and drops leading spaces. */
function phpBaseName(name: string): string {
  return name.replace(/^ +/, '').replace(/[ .]/g, '_');
}

function nextIndex(obj: PhpObject): string {
  let max = -1;
  for (const k of Object.keys(obj)) {
    if (/^(0|-?[1-9][0-9]*)$/.test(k)) max = Math.max(max, Number(k));
  }
  return String(max + 1);
}

/** Assigns `value` at the key path, creating objects as needed; a scalar in the way is replaced. */
export function assignPath(target: PhpObject, path: string[], value: string): void {
  let node = target;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] === '' ? nextIndex(node) : path[i];
    if (i === path.length - 1) {
      node[seg] = value;
      return;
    }
    const child = node[seg];
    if (typeof child !== 'object' || child === null) {
      const fresh: PhpObject = {};
      node[seg] = fresh;
      node = fresh;
    } else {
      node = child;
    }
  }
}

/** Parses a query string or form body into a nested object, like PHP's parse_str. */
export function parsePhpQuery(qs: string): PhpObject {
  const out: PhpObject = Object.create(null) as PhpObject;
  if (!qs) return out;
  for (const pair of qs.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawVal = eq < 0 ? '' : pair.slice(eq + 1);
    const key = formDecode(rawKey);
    if (key === '' || key.startsWith('[')) continue;
    assignPath(out, splitKey(key), formDecode(rawVal));
  }
  return normalise(out);
}

/** Plain objects only (no null prototype) so JSON and deep-equal behave normally. */
function normalise(o: PhpObject): PhpObject {
  const res: PhpObject = {};
  for (const [k, v] of Object.entries(o)) res[k] = typeof v === 'object' ? normalise(v) : v;
  return res;
}

/** A JSON array, or a PHP-style object keyed 0,1,… (any keys, in order), as a list; anything else → undefined. */
export function asList(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.values(v as Record<string, unknown>);
  return undefined;
}

/** Merges `extra` into `base` deeply (body over query string, like PHP's $_REQUEST with POST winning). */
export function mergeParams(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const prev = out[k];
    if (isPlainObject(prev) && isPlainObject(v)) out[k] = mergeParams(prev, v);
    else out[k] = v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** PHP's (int) cast of a request value: leading whitespace, sign, digits; "12abc" → 12, "abc" → 0. */
export function phpInt(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return 0;
  const m = /^[ \t\n\r\v\f]*([+-]?\d+)/.exec(v);
  return m ? Number(m[1]) : 0;
}

/** PHP's (float) cast: the longest numeric prefix ("12.5kg" → 12.5, "abc" → 0). */
export function phpFloat(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return 0;
  const m = /^[ \t\n\r\v\f]*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)/.exec(v);
  return m ? Number(m[1]) : 0;
}
