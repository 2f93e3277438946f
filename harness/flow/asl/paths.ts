import { runtimeError, unsupported } from './errors.ts';
import type { Json, JsonObject } from './types.ts';

/** `$` or `$$` followed by `.name` segments: the reference paths our definition uses; anything else throws. */
const REFERENCE_PATH = /^\$\$?(\.[A-Za-z_][\w-]*)*$/;

function segmentsOf(path: string): { context: boolean; keys: string[] } {
  if (!REFERENCE_PATH.test(path)) throw unsupported(`the JSONPath '${path}' (only $.a.b and $$.a.b reference paths)`);
  const context = path.startsWith('$$');
  const keys = path
    .slice(context ? 2 : 1)
    .split('.')
    .slice(1);
  return { context, keys };
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at a path (in the data, or the context object for `$$`); undefined when absent. */
export function readPath(path: string, data: Json, context: Json): Json | undefined {
  const { context: fromContext, keys } = segmentsOf(path);
  let value: Json | undefined = fromContext ? context : data;
  for (const key of keys) {
    if (!isObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/** A path that must resolve (InputPath, OutputPath, `.$` fields, Wait/Fail paths): absent is States.Runtime. */
export function requirePath(path: string, data: Json, context: Json, field: string): Json {
  const value = readPath(path, data, context);
  if (value === undefined) throw runtimeError(`the JSONPath '${path}' specified for the field '${field}' could not be found in the input`);
  return value;
}

/** ResultPath: null keeps the input, `$` replaces it, `$.a.b` sets the result there (creating objects on the way). */
export function writePath(resultPath: string | null | undefined, input: Json, result: Json): Json {
  if (resultPath === null) return input;
  const path = resultPath ?? '$';
  const { context, keys } = segmentsOf(path);
  if (context) throw runtimeError(`ResultPath '${path}' cannot write to the context object`);
  if (keys.length === 0) return result;
  if (!isObject(input)) throw runtimeError(`ResultPath '${path}' needs an object input, got ${JSON.stringify(input)?.slice(0, 80)}`);
  const root: JsonObject = structuredClone(input);
  let target = root;
  for (const key of keys.slice(0, -1)) {
    const next = target[key];
    if (next === undefined) target[key] = {};
    else if (!isObject(target[key])) throw runtimeError(`ResultPath '${path}': '${key}' holds no object`);
    target = target[key] as JsonObject;
  }
  target[keys[keys.length - 1]] = result;
  return root;
}

/** InputPath / OutputPath: null is {}, absent is `$`. */
export function selectPath(path: string | null | undefined, data: Json, context: Json, field: string): Json {
  if (path === null) return {};
  if (path === undefined || path === '$') return data;
  return requirePath(path, data, context, field);
}

/**
 * Parameters / ResultSelector: a template whose `name.$` fields take the value at their path (`$` the data,
 * `$$` the context object). Intrinsic functions (States.Format(…)…) are refused: the definition uses none.
 */
export function applyTemplate(template: Json, data: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((item) => applyTemplate(item, data, context));
  if (!isObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith('.$')) {
      out[key] = applyTemplate(value, data, context);
      continue;
    }
    if (typeof value !== 'string') throw runtimeError(`the field '${key}' must hold a path, got ${JSON.stringify(value)}`);
    if (value.startsWith('States.')) throw unsupported(`the intrinsic function in '${key}': ${value}`);
    out[key.slice(0, -2)] = requirePath(value, data, context, key);
  }
  return out;
}
