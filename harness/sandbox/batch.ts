/**
 * `batch` helpers: parsing command strings ("crm.lead.update?id=5&fields[NAME]=A"), `$result[key][field]`
 * references to earlier results, and PHP's JSON encoding of the result maps (an empty map is `[]`; a map
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

/** Splits one command string; the method name is trimmed and lower-cased (method names are case-insensitive). */
export function parseCommand(key: string, text: string, results: Map<string, unknown>): BatchCommand {
  const q = text.indexOf('?');
  const method = (q < 0 ? text : text.slice(0, q))
    .trim()
    .toLowerCase()
    .replace(/\.json$/, '');
  const params = q < 0 ? {} : (substitute(parsePhpQuery(text.slice(q + 1)), results) as PhpObject);
  return { key, method, params };
}

const REF = /\$result\[([^\]]+)\]((?:\[[^\]]*\])*)/g;

/** Replaces `$result[key][a][b]` in values with the earlier command's result at that path. */
function substitute(v: PhpValue, results: Map<string, unknown>): PhpValue {
  if (typeof v === 'string') {
    return v.replace(REF, (whole, key: string, path: string) => {
      if (!results.has(key)) return whole;
      let node: unknown = results.get(key);
      for (const m of path.matchAll(/\[([^\]]*)\]/g)) {
        node = node && typeof node === 'object' ? (node as Record<string, unknown>)[m[1]] : undefined;
      }
      return node === undefined || node === null ? '' : typeof node === 'object' ? JSON.stringify(node) : String(node);
    });
  }
  const out: PhpObject = {};
  for (const [k, x] of Object.entries(v)) out[k] = substitute(x, results);
  return out;
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
