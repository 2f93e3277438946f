/**
 * `batch` helpers: parsing command strings ("crm.lead.update?id=5&fields[NAME]=A"), `$result[key][field]`
 * (and `$next`, `$total`, `$time`, `$error`) references to earlier results, and PHP's JSON encoding of the result maps (an empty map is `[]`; a map
 * keyed 0..n-1 in order is a JSON list).
 */
import { parsePhpQuery, type PhpObject, type PhpValue } from './query.ts';

export const MAX_BATCH = 50;

export interface BatchCommand {
  key: string;
  method: string;
  params: PhpObject;
}

/** `cmd` (object or array) → commands in order. undefined when `cmd` is not a list or map. */
export function commandEntries(cmd: unknown): Array<[string, string]> | undefined {
  if (Array.isArray(cmd)) return cmd.map((c, i) => [String(i), String(c)]);
  if (cmd && typeof cmd === 'object') return Object.entries(cmd as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
  return undefined;
}

/**
 * What earlier commands left, as `methodsBatch` keeps it: `result`, `next`, `total`, `time` and `error`, each
 * a map from command key to that command's value. `$result[key][field]` and its siblings read from here.
 */
export interface BatchRefs {
  result: Map<string, unknown>;
  next: Map<string, unknown>;
  total: Map<string, unknown>;
  time: Map<string, unknown>;
  error: Map<string, unknown>;
}

export function emptyRefs(): BatchRefs {
  return { result: new Map(), next: new Map(), total: new Map(), time: new Map(), error: new Map() };
}

/** Splits one command string; the method name is trimmed and lower-cased (method names are case-insensitive). */
export function parseCommand(key: string, text: string, refs: BatchRefs): BatchCommand {
  const q = text.indexOf('?');
  const method = (q < 0 ? text : text.slice(0, q))
    .trim()
    .toLowerCase()
    .replace(/\.json$/, '');
  const params = q < 0 ? {} : (substitute(parsePhpQuery(text.slice(q + 1)), refs) as PhpObject);
  return { key, method, params };
}

/** The method of a command string, without parsing its parameters. */
export function commandMethod(text: string): string {
  return parseCommand('', text.split('?')[0], emptyRefs()).method;
}

const REF = /\$(result|next|total|time|error)([^\s]*)/gi;

/**
 * CRestUtil::processBatchElement on every (already URL-decoded) value: each `$name…` token up to whitespace
 * is a reference; its `[k]` parts are walked while they exist (PHP isset), stopping at the last node found.
 * A token that is the whole value becomes that node, whatever its type (an array, a number, null); inside
 * text it is replaced only when the node is a string, and the whole token goes (`$result[a][X]!` eats the
 * `!`). The name matches case-insensitively but is looked up as written, so `$RESULT[…]` reads null.
 * A token without any `[k]` is left alone.
 */
function substitute(v: PhpValue, refs: BatchRefs): unknown {
  if (typeof v !== 'string') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = substitute(x, refs);
    return out;
  }
  let value: unknown = v;
  for (const m of v.matchAll(REF)) {
    const segments = [...m[2].matchAll(/\[([^\]]+)\]/g)].map((s) => s[1]);
    if (!segments.length) continue;
    const name = m[1] as keyof BatchRefs;
    let node: unknown = name in refs ? Object.fromEntries(refs[name]) : null;
    for (const seg of segments) {
      const next = phpIsset(node, seg);
      if (next === undefined) break;
      node = next;
    }
    if (m[0] === value) value = node === undefined ? null : structuredClone(node);
    else if (typeof value === 'string' && typeof node === 'string') value = value.split(m[0]).join(node);
  }
  return value;
}

/** `isset($node[$key]) ? $node[$key] : undefined` with PHP's rules for arrays and string offsets. */
function phpIsset(node: unknown, key: string): unknown {
  if (typeof node === 'string') {
    if (!/^-?\d+$/.test(key)) return undefined;
    const i = Number(key) < 0 ? node.length + Number(key) : Number(key);
    return i >= 0 && i < node.length ? node[i] : undefined;
  }
  if (node && typeof node === 'object' && Object.hasOwn(node, key)) {
    const x = (node as Record<string, unknown>)[key];
    return x === null ? undefined : x;
  }
  return undefined;
}

/** PHP json_encode of an associative array: `[]` when empty, a list when keyed 0..n-1 in order. */
export function phpMap(map: Map<string, unknown>): unknown {
  const keys = [...map.keys()];
  if (keys.every((k, i) => k === String(i))) return [...map.values()];
  return Object.fromEntries(map);
}

/** PHP truthiness of a request value ("0", "", false, 0 are false; "false" is true, as in PHP). */
export function phpTruthy(v: unknown): boolean {
  return !(v === undefined || v === null || v === false || v === 0 || v === '' || v === '0');
}
