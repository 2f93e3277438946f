/**
 * A portal's `error` / `error_description` as text, whatever the JSON held: a string as it is, a number or a
 * boolean as its digits or word, null/undefined as '', an object or array as its JSON. Never throws (an object
 * with a `toString` key defeats String()), and capped, so a hostile answer neither crashes the sender nor
 * floods the report. Pure.
 */
export function errorText(value: unknown, max: number): string {
  const text = typeof value === 'string' ? value : asText(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Longest error code kept (real codes are under 40 characters). */
export const MAX_CODE_CHARS = 200;
/** Longest error description kept. */
export const MAX_DESCRIPTION_CHARS = 2000;

/** `{ error, error_description }` of any JSON value, both as capped strings. */
export function errorBody(err: unknown): { error: string; error_description: string } {
  const e = err && typeof err === 'object' ? (err as Record<string, unknown>) : { error: err };
  return { error: errorText(e.error, MAX_CODE_CHARS), error_description: errorText(e.error_description, MAX_DESCRIPTION_CHARS) };
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '[unreadable]';
  }
}
