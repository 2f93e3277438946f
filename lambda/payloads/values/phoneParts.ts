/**
 * A phone cell's two parts: the number and its extension. People write extensions as `доб. 123`, `ext. 123`,
 * `x3651` or `#123`, and Excel or a web form leaves non-breaking spaces and hyphens (U+00A0, U+202F, U+2009,
 * U+2010–U+2013) in the number: those are still a number's punctuation.
 */

/** Spaces and dashes people's tools put in phone numbers, besides ASCII space and `-`. */
export const PHONE_SPACES = '\u00A0\u202F\u2009';
export const PHONE_DASHES = '\u2010\u2011\u2012\u2013';

const EXTENSION = /^(.*?)[\s,;]*(?:доб(?:авочный)?\.?|ext(?:ension)?\.?|x|#)\s*(\d{1,10})$/iu;

export interface PhoneParts {
  /** The number as written, without the extension. */
  number: string;
  /** The extension's digits, when the cell has one. */
  ext?: string;
}

/** `+7 912 345-67-89 доб. 123` → { number: '+7 912 345-67-89', ext: '123' }; no extension → the text as it is. */
export function splitPhone(text: string): PhoneParts {
  const m = EXTENSION.exec(text);
  if (!m || !/\d/.test(m[1])) return { number: text };
  return { number: m[1], ext: m[2] };
}
