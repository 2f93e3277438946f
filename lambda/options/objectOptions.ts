import { UsageError } from '../errors.ts';
import { optionsInput } from './flags.ts';
import { readArgs } from './readFlags.ts';

/**
 * Per-file options for S3 drops: whoever uploads a file cannot pass flags, so the object carries them in its
 * user metadata `b24-options` (header `x-amz-meta-b24-options`; the console's "User defined" metadata, or
 * `aws s3 cp leads.csv s3://bucket/incoming/ --metadata 'b24-options=--match EMAIL --multifield replace'`).
 * The text is read by the CLI's own flag table and schema; the start function then merges it over the
 * deployment's defaults and bounds it as it bounds a manual payload (limits may only tighten).
 */

/** The metadata key as S3 returns it (lower case, without `x-amz-meta-`). */
export const OPTIONS_METADATA_KEY = 'b24-options';

/** What a file may not say about itself: where the CLI writes, its help, and flags that open local files. */
const NOT_PER_FILE = new Set(['out', 'help']);

/**
 * The options an object's metadata asks for, as unvalidated run-option input (`{}` when it asks for none).
 *
 * @example objectOptionsInput({ 'b24-options': '--multifield replace --clear-marker "N/A"' }) // → { multifield: 'replace', clearMarker: 'N/A' }
 * @throws UsageError naming the flag: an unknown flag, a stray word, a flag a file cannot set
 */
export async function objectOptionsInput(metadata: Record<string, string> | undefined): Promise<Record<string, unknown>> {
  const text = metadata?.[OPTIONS_METADATA_KEY];
  if (text === undefined || text.trim() === '') return {};
  const { values, positionals } = readArgs(splitFlags(decodeMimeWords(text)));
  if (positionals.length > 0) throw new UsageError(`"${positionals[0]}" is not a flag (the options are flags only, e.g. --match EMAIL)`);
  const refused = Object.keys(values).find((name) => NOT_PER_FILE.has(name));
  if (refused) throw new UsageError(`--${refused} cannot be set for one file`);
  return optionsInput(values, '/');
}

/** Shell-like words: spaces separate, "double" or 'single' quotes keep spaces, a backslash escapes inside double quotes. */
export function splitFlags(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (quote) throw new UsageError(`the options end inside a ${quote === '"' ? 'double' : 'single'} quote`);
  if (started) words.push(word);
  return words;
}

/** S3 hands non-ASCII metadata back as RFC 2047 words (`=?UTF-8?B?…?=`); anything else is returned as is. */
export function decodeMimeWords(text: string): string {
  return text.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, data: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}
