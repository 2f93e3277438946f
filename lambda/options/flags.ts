import type { ParseArgsConfig } from 'node:util';
import { PLAN_PRESETS } from '../config.ts';
import { UsageError } from '../errors.ts';
import { DELIMITERS, ENCODINGS, spelled } from './spellings.ts';

/**
 * Every command-line flag, once: the parseArgs options, the usage text and the flag named in an error about
 * a RunOptions value are all derived from this table.
 */

/** What a reader gets besides the text: the flag as typed (`--rate`) for its messages, and the working folder. */
export interface ReadContext {
  flag: string;
  cwd: string;
}

interface FlagBase {
  /** As typed, without the leading `--`. */
  name: string;
  short?: string;
  /** The value's placeholder in the usage text (`DIR`, `N`). */
  hint?: string;
  /** The flag's lines in the usage text. */
  help: readonly string[];
  /** The RunOptions path the flag sets (`limits.rate`); none for what the CLI reads itself (--out, --help). */
  option?: string;
}

/** A flag without a value: when given, it sets `option` to `value`. */
export interface SwitchFlag extends FlagBase {
  type: 'boolean';
  value?: boolean;
}

/** A flag with a value: `read` (or the caller's file loader) turns the text into the option's value; the text as is without either. */
export interface ValueFlag extends FlagBase {
  type: 'string';
  /** Throws UsageError when the text cannot be read. */
  read?: (text: string, ctx: ReadContext) => unknown;
  /**
   * The value names a file, opened by the caller's `loadFile` (the CLI reads the disk; object metadata has no
   * disk to read, so there the flag is refused). Run after every `read`, so a mistyped number is reported before
   * any file is opened.
   */
  file?: true;
}

/** Opens the file a `file` flag names and returns the option's value. Throws UsageError. */
export type FileLoader = (text: string, ctx: ReadContext) => Promise<unknown>;

export type Flag = SwitchFlag | ValueFlag;

/** `1_000` reads as 1000; the schema then checks the range. */
function numeric(text: string, { flag }: ReadContext): number {
  const n = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: "${text}" is not a number`);
  return n;
}

/** A named preset seeds `limits`; the number flags after --plan in the table then override its values. */
function preset(text: string, { flag }: ReadContext): Record<string, number> {
  const limits = PLAN_PRESETS[text];
  if (!limits) throw new UsageError(`${flag}: "${text}" is not a plan (standard or enterprise)`);
  return { ...(limits as Record<string, number>) };
}

const number = (name: string, hint: string, option: string, help: string): ValueFlag => ({
  name,
  type: 'string',
  hint,
  option,
  read: numeric,
  help: [help],
});

/** In the usage text's order, which is also the order values are read (and so which bad flag is reported first). */
export const FLAGS: readonly Flag[] = [
  {
    name: 'dry-run',
    type: 'boolean',
    option: 'dryRun',
    value: true,
    help: ['validate and report only; works offline (no webhook needed)'],
  },
  {
    name: 'out',
    type: 'string',
    hint: 'DIR',
    help: [
      'where report.csv, rejected.csv and summary.json go',
      '(default: <name>-report/ beside the input, e.g. leads.csv → leads-report/)',
    ],
  },
  {
    name: 'map',
    type: 'string',
    hint: 'FILE.json',
    option: 'mapping',
    file: true,
    help: ['header mapping, e.g. {"Phone number": "PHONE_MOBILE", "Company": "COMPANY_TITLE"}'],
  },
  {
    name: 'encoding',
    type: 'string',
    hint: 'ENC',
    option: 'encoding',
    read: (text) => spelled(text, ENCODINGS),
    help: [
      'utf-8 | windows-1251 | windows-1252 | macintosh',
      '(default: auto — UTF-8, else the code page the text reads as; refused when unsure)',
    ],
  },
  {
    name: 'decimal-mark',
    type: 'string',
    hint: 'M',
    option: 'decimalMark',
    read: (text) => text.trim(),
    help: [', | . (default: auto — a lone mark before three digits, 12,500, is refused as ambiguous)'],
  },
  {
    name: 'date-order',
    type: 'string',
    hint: 'ORDER',
    option: 'dateOrder',
    read: (text) => text.trim().toUpperCase(),
    help: ['DMY | MDY: how 3/5/1990 reads (default: refused when both readings are dates)'],
  },
  {
    name: 'phone-country',
    type: 'string',
    hint: 'CC',
    option: 'phoneCountry',
    help: ["country of phones written without +code, e.g. RU (default: the portal's)"],
  },
  {
    name: 'match',
    type: 'string',
    hint: 'FIELD',
    option: 'match',
    help: ['ID | EMAIL | PHONE | UF_CRM_… (or its label): how rows without an ID find their lead (default: ID)'],
  },
  {
    name: 'ignore-unknown',
    type: 'boolean',
    option: 'ignoreUnknown',
    value: true,
    help: ['skip columns nobody can write (unknown, read-only) with a warning instead of refusing'],
  },
  {
    name: 'delimiter',
    type: 'string',
    hint: 'D',
    option: 'delimiter',
    read: (text) => spelled(text, DELIMITERS),
    help: ['auto | , | ; | tab (default: auto)'],
  },
  {
    name: 'sonet',
    type: 'string',
    hint: 'Y|N',
    option: 'sonet',
    read: (text) => text.trim().toUpperCase(),
    help: ['post live-feed events for the updates (default: N)'],
  },
  { name: 'no-diff', type: 'boolean', option: 'diff', value: false, help: ['write every row as is, without reading the leads first'] },
  { name: 'multifield', type: 'string', hint: 'MODE', option: 'multifield', help: ['merge | replace phones/e-mails/… (default: merge)'] },
  {
    name: 'clear-marker',
    type: 'string',
    hint: 'X',
    option: 'clearMarker',
    help: ['a cell equal to X clears the field (default: #N/A; an empty cell leaves it alone)'],
  },
  {
    name: 'plan',
    type: 'string',
    hint: 'PLAN',
    option: 'limits',
    read: preset,
    help: ["standard | enterprise (the portal's request limits)"],
  },
  number('rate', 'N', 'limits.rate', 'requests per second (default 2)'),
  number('burst', 'N', 'limits.burst', 'request burst (default 50)'),
  number('operating-limit', 'S', 'limits.operatingLimit', 'seconds of server time per method within the window (default 480)'),
  number('operating-window', 'S', 'limits.operatingWindow', 'the operating window, seconds (default 600)'),
  number('concurrency', 'N', 'limits.concurrency', 'batches in flight (default 1; 2 for cheap updates, see README)'),
  number('max-bytes', 'N', 'input.maxBytes', 'refuse files larger than N bytes (default 2 GiB)'),
  number('max-rows', 'N', 'input.maxRows', 'stop after N rows (default 5,000,000)'),
  {
    name: 'outage-wait',
    type: 'string',
    hint: 'S',
    option: 'outageWaitMs',
    read: (text, ctx) => Math.round(numeric(text, ctx) * 1000),
    help: ['seconds a portal outage is waited out before the run halts (default 21,600 = 6 h)'],
  },
  number('max-cell-bytes', 'N', 'input.maxCellBytes', 'a cell over N bytes makes its row invalid (default 65,536)'),
  { name: 'help', short: 'h', type: 'boolean', help: ['show this help'] },
];

/** The table as node:util parseArgs options. */
export const PARSE_OPTIONS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  FLAGS.map((f) => [f.name, f.short ? { type: f.type, short: f.short } : { type: f.type }]),
);

/** Where a flag's help starts, after the two-space indent: the longest label (`--operating-window S`) fits. */
const LABEL_WIDTH = 26;

/** The usage text's option lines: `  --out DIR   where …`, continuation lines under the first. */
export function optionLines(flags: readonly Flag[] = FLAGS): string[] {
  return flags.flatMap((f) => {
    const label = `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.hint ? ` ${f.hint}` : ''}`;
    return f.help.map((line, i) => `  ${(i === 0 ? label : '').padEnd(LABEL_WIDTH)}${line}`);
  });
}

const FLAG_OF = new Map(FLAGS.flatMap((f) => (f.option ? [[f.option, `--${f.name}`] as const] : [])));

/** The flag that sets the option a schema issue names (`limits.rate` → `--rate`); a mapping entry is --map's. */
export function flagFor(path: readonly string[]): string {
  return FLAG_OF.get(path.join('.')) ?? (path[0] === 'mapping' ? FLAG_OF.get('mapping')! : path.join('.'));
}

/** What parseArgs returns for the table's flags. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * The given flags as the input of parseRunOptions (unvalidated: the schema judges the values). Without
 * `loadFile`, a flag that names a file is refused.
 */
export async function optionsInput(values: FlagValues, cwd: string, loadFile?: FileLoader): Promise<Record<string, unknown>> {
  const raw: Record<string, unknown> = {};
  const given = FLAGS.filter((f) => f.option !== undefined && values[f.name] !== undefined);
  const text = (f: Flag) => String(values[f.name]);
  const ctx = (f: Flag) => ({ flag: `--${f.name}`, cwd });
  for (const f of given) {
    if (f.type === 'boolean') setOption(raw, f.option!, f.value);
    else if (!f.file) setOption(raw, f.option!, f.read ? f.read(text(f), ctx(f)) : text(f));
  }
  for (const f of given) {
    if (f.type !== 'string' || !f.file) continue;
    if (!loadFile) throw new UsageError(`--${f.name}: names a file, which cannot be read from here`);
    setOption(raw, f.option!, await loadFile(text(f), ctx(f)));
  }
  return raw;
}

/** Sets the dotted `path` of `raw` (creating the objects on the way), unless `value` is undefined. */
function setOption(raw: Record<string, unknown>, path: string, value: unknown): void {
  if (value === undefined) return;
  const keys = path.split('.');
  const last = keys.pop()!;
  let at = raw;
  for (const key of keys) {
    at[key] ??= {};
    at = at[key] as Record<string, unknown>;
  }
  at[last] = value;
}
