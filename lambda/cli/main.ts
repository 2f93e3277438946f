import { readFile, stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import type { PortalSession } from '../calls/session.ts';
import { parseRunOptions, PLAN_PRESETS, type RunOptions } from '../config.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import { finalizeRun } from '../report/finalize.ts';
import { FsStore } from '../stores/fsStore.ts';
import { decodeBytes } from '../rows/records.ts';
import { isUtf8 } from '../source/format.ts';
import { exitCodeFor, PLAN_FILE, REJECTED_FILE, REPORT_FILE, STATUSES, SUMMARY_FILE } from '../report/lines.ts';
import { driveRun, newRunState } from '../run/drive.ts';
import type { RunState, Summary } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { openS3Source, parseS3Url, type S3Source } from './s3Source.ts';
import { redact } from '../calls/webhook.ts';
import { UsageError } from '../errors.ts';

export const USAGE = `Usage: b24-lead-import <file.csv> [options]
       npm run cli -- <file.csv> [options]

Updates Bitrix24 CRM leads from a CSV file (one row per lead, an ID column and the fields to set),
and writes a per-row report.

The portal is the webhook URL in the environment variable BITRIX24_WEBHOOK_URL
(e.g. https://example.bitrix24.com/rest/1/abc123/). It is a secret: there is no flag for it.

Options:
  --dry-run                 validate and report only; works offline (no webhook needed)
  --out DIR                 where report.csv, rejected.csv and summary.json go
                            (default: <name>-report/ beside the input, e.g. leads.csv → leads-report/)
  --map FILE.json           header mapping, e.g. {"Phone number": "PHONE_MOBILE", "Company": "COMPANY_TITLE"}
  --encoding ENC            utf-8 | windows-1251 (default: auto — UTF-8 unless the bytes are not UTF-8)
  --delimiter D             auto | , | ; | tab (default: auto)
  --sonet Y|N               post live-feed events for the updates (default: N)
  --no-diff                 write every row as is, without reading the leads first
  --multifield MODE         merge | replace phones/e-mails/… (default: merge)
  --clear-marker X          a cell equal to X clears the field (default: #N/A; an empty cell leaves it alone)
  --plan PLAN               standard | enterprise (the portal's request limits)
  --rate N                  requests per second (default 2)
  --burst N                 request burst (default 50)
  --operating-limit S       seconds of server time per method within the window (default 480)
  --operating-window S      the operating window, seconds (default 600)
  --concurrency N           batches in flight (default 4)
  --max-bytes N             refuse files larger than N bytes (default 2 GiB)
  --max-rows N              stop after N rows (default 5,000,000)
  --max-cell-bytes N        a cell over N bytes makes its row invalid (default 65,536)
  -h, --help                show this help

Exit codes:
  0  every row succeeded (updated, unchanged, or valid in a dry run)
  1  some rows were invalid, failed or skipped, the file was cut short, or the run failed (report written)
  2  the file was refused (empty, unreadable, bad header…) or the command line is wrong
`;

/** Where the CLI writes; the real process or a test's capture. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** A command-line problem: printed with the usage hint, exit 2. */

const FLAG_OF: Record<string, string> = {
  dryRun: '--dry-run',
  encoding: '--encoding',
  delimiter: '--delimiter',
  sonet: '--sonet',
  mapping: '--map',
  clearMarker: '--clear-marker',
  diff: '--no-diff',
  multifield: '--multifield',
  'limits.rate': '--rate',
  'limits.burst': '--burst',
  'limits.operatingLimit': '--operating-limit',
  'limits.operatingWindow': '--operating-window',
  'limits.concurrency': '--concurrency',
  'input.maxBytes': '--max-bytes',
  'input.maxRows': '--max-rows',
  'input.maxCellBytes': '--max-cell-bytes',
};

/**
 * How people spell the documented values (`UTF-8` as Excel's "CSV UTF-8" says it, `cp1251`, `TAB`, `semicolon`):
 * each maps to the one value; anything else goes to the schema as written and is refused there.
 */
const ENCODINGS: Record<string, string> = {
  auto: 'auto',
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'windows-1251': 'windows-1251',
  windows1251: 'windows-1251',
  cp1251: 'windows-1251',
  win1251: 'windows-1251',
};
const DELIMITERS: Record<string, string> = {
  auto: 'auto',
  ',': ',',
  comma: ',',
  ';': ';',
  semicolon: ';',
  tab: '\t',
  '\\t': '\t',
  '\t': '\t',
};

function spelled(value: string | undefined, known: Record<string, string>): string | undefined {
  if (value === undefined) return undefined;
  return known[value.trim().toLowerCase()] ?? known[value] ?? value;
}

interface Parsed {
  file: string;
  out?: string;
  options: RunOptions;
}

/** Flags → validated RunOptions (zod, once). Throws UsageError with a clear message. */
export async function parseCli(argv: string[], cwd: string): Promise<Parsed | 'help'> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'dry-run': { type: 'boolean' },
        out: { type: 'string' },
        map: { type: 'string' },
        encoding: { type: 'string' },
        delimiter: { type: 'string' },
        sonet: { type: 'string' },
        'no-diff': { type: 'boolean' },
        multifield: { type: 'string' },
        'clear-marker': { type: 'string' },
        plan: { type: 'string' },
        rate: { type: 'string' },
        burst: { type: 'string' },
        'operating-limit': { type: 'string' },
        'operating-window': { type: 'string' },
        concurrency: { type: 'string' },
        'max-bytes': { type: 'string' },
        'max-rows': { type: 'string' },
        'max-cell-bytes': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('no input file given');
  if (positionals.length > 1) throw new UsageError(`one input file at a time (got ${positionals.length}: ${positionals.join(', ')})`);

  const str = (name: string) => values[name] as string | undefined;
  const num = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v.replace(/_/g, ''));
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: "${v}" is not a number`);
    return n;
  };

  let limits: Record<string, number> = {};
  const plan = str('plan');
  if (plan !== undefined) {
    const preset = PLAN_PRESETS[plan];
    if (!preset) throw new UsageError(`--plan: "${plan}" is not a plan (standard or enterprise)`);
    limits = { ...(preset as Record<string, number>) };
  }
  const set = (target: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) target[key] = v;
  };
  set(limits, 'rate', num('rate'));
  set(limits, 'burst', num('burst'));
  set(limits, 'operatingLimit', num('operating-limit'));
  set(limits, 'operatingWindow', num('operating-window'));
  set(limits, 'concurrency', num('concurrency'));
  const input: Record<string, unknown> = {};
  set(input, 'maxBytes', num('max-bytes'));
  set(input, 'maxRows', num('max-rows'));
  set(input, 'maxCellBytes', num('max-cell-bytes'));

  let mapping: unknown;
  const mapFile = str('map');
  if (mapFile !== undefined) {
    let text: string;
    try {
      text = decodeMapping(await readFile(resolve(cwd, mapFile)));
    } catch (err) {
      throw new UsageError(`--map: cannot read ${mapFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      mapping = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`--map: ${mapFile} is not valid JSON: ${(err as Error).message}`);
    }
  }

  const delimiter = str('delimiter');
  const raw: Record<string, unknown> = {};
  set(raw, 'dryRun', values['dry-run'] === true ? true : undefined);
  set(raw, 'encoding', spelled(str('encoding'), ENCODINGS));
  set(raw, 'delimiter', spelled(delimiter, DELIMITERS));
  set(raw, 'sonet', str('sonet')?.trim().toUpperCase());
  set(raw, 'mapping', mapping);
  set(raw, 'clearMarker', str('clear-marker'));
  set(raw, 'diff', values['no-diff'] === true ? false : undefined);
  set(raw, 'multifield', str('multifield'));
  if (Object.keys(limits).length > 0) raw.limits = limits;
  if (Object.keys(input).length > 0) raw.input = input;

  let options: RunOptions;
  try {
    options = parseRunOptions(raw);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0];
      const path = issue.path.map(String);
      const flag = FLAG_OF[path.join('.')] ?? (path[0] === 'mapping' ? '--map' : path.join('.'));
      const where = path[0] === 'mapping' && path.length > 1 ? ` (entry "${path.slice(1).join('.')}")` : '';
      throw new UsageError(`${flag}${where}: ${issue.message.replaceAll('"\t"', 'tab')}`);
    }
    throw err;
  }
  return { file: positionals[0], ...(str('out') !== undefined ? { out: str('out') } : {}), options };
}

/**
 * The report file that would land on the input itself (`rejected.csv` fixed and re-run with `--out` set to
 * its own folder), or undefined. The input is read whole before the report is written, so the user's file
 * would be silently replaced.
 */
export function outputClash(file: string, outDir: string): string | undefined {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const input = real(file);
  const dir = real(outDir);
  return [REPORT_FILE, REJECTED_FILE, SUMMARY_FILE, PLAN_FILE].find((name) => resolve(dir, name) === input);
}

/**
 * A mapping file's text: UTF-8 (BOM or not), or windows-1251 when the bytes are not UTF-8 (Notepad's "ANSI"
 * on a Russian Windows), so Cyrillic keys still match the headers of a Russian export.
 */
export function decodeMapping(bytes: Buffer): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  return isUtf8(body) ? body.toString('utf8') : decodeBytes(body, 'windows-1251');
}

/** `leads.csv` → `leads-report/` beside it. */
export function defaultOutDir(file: string): string {
  const name = basename(file, extname(file));
  return join(dirname(file), `${name}-report`);
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  // The SDK warns on every run that its 2027 releases need Node 22: the lockfile pins releases that run on 20
  // (Lambda runs 22), so the warning is noise for a person running the tool.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const err = (s: string) => io.stderr.write(s + '\n');
  let parsed: Parsed | 'help';
  try {
    parsed = await parseCli(argv, io.cwd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`b24-lead-import: ${e.message}`);
    err('Run with --help for usage.');
    return 2;
  }
  if (parsed === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  const { options } = parsed;
  const s3Url = parseS3Url(parsed.file);
  const file = s3Url ? parsed.file : resolve(io.cwd, parsed.file);
  const outDir = s3Url && !parsed.out ? '' : resolve(io.cwd, parsed.out ?? defaultOutDir(file));

  if (!s3Url)
    try {
      const st = await stat(file);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
    } catch (e) {
      err(`b24-lead-import: cannot read ${parsed.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return 2;
    }
  if (!s3Url) {
    const clash = outputClash(file, outDir);
    if (clash) {
      err(
        `b24-lead-import: --out ${parsed.out ?? outDir}: the run would overwrite the input file with its ${clash}; choose another --out folder`,
      );
      return 2;
    }
  }

  const webhook = io.env.BITRIX24_WEBHOOK_URL?.trim() || undefined;
  if (!webhook && !options.dryRun) {
    err(
      "b24-lead-import: BITRIX24_WEBHOOK_URL is not set. Set it to the portal's inbound webhook URL, or use --dry-run to validate offline.",
    );
    return 2;
  }

  let source: ObjectStore, output: ObjectStore, state: RunState;
  let where = (key: string) => join(outDir, key);
  if (s3Url) {
    // s3://bucket/key: read from S3 (standard SDK settings), report back to the same bucket under reports/ (or --out).
    let s3: S3Source;
    try {
      s3 = await openS3Source(file);
    } catch (e) {
      err(`b24-lead-import: cannot read ${file}: ${(e as Error).name}: ${(e as Error).message}`);
      return 2;
    }
    source = s3.source;
    output = parsed.out ? new FsStore(outDir) : s3.output;
    if (!parsed.out) where = s3.where;
    const prefixes = parsed.out ? { reportPrefix: '', partsPrefix: '.parts/' } : s3;
    state = newRunState({
      runId: s3.runId,
      source: { bucket: s3.bucket, ...s3.info },
      reportPrefix: prefixes.reportPrefix,
      partsPrefix: prefixes.partsPrefix,
      options,
    });
  } else {
    source = new FsStore(dirname(file));
    output = new FsStore(outDir);
    const info = await source.head(basename(file));
    state = newRunState({ source: { bucket: '', ...info }, reportPrefix: '', partsPrefix: '.parts/', options });
  }

  let session: PortalSession | undefined;
  if (webhook) {
    try {
      // Loaded only when a portal is configured: an offline dry run never pays for the client's code.
      const { openPortal } = await import('../calls/session.ts');
      session = await openPortal(webhook, options);
    } catch (e) {
      const message = redact((e as Error).message ?? String(e), webhook ?? '');
      if (options.dryRun) {
        err(`b24-lead-import: warning: could not open the portal (${message}); dry run continues offline with the built-in field list`);
      } else {
        err(`b24-lead-import: could not open the portal: ${message}`);
        const summary = await finalizeRun(state, output, { error: { code: 'PORTAL_UNAVAILABLE', message } });
        printSummary(io, summary, where);
        return 1;
      }
    }
  }

  const progress = io.stderr.isTTY ? progressLine(io, Date.now()) : undefined;
  const { summary } = await driveRun(state, {
    source,
    output,
    // In a dry run the sender reads and plans but never writes: plan.csv previews each row's changes.
    ...(session ? { sender: session.sender } : {}),
    catalogue: session?.catalogue ?? standardCatalogue(),
    ...(progress ? { onProgress: progress.update } : {}),
  });
  progress?.clear();
  if (summary.error) summary.error.message = redact(summary.error.message, webhook ?? '');
  printSummary(io, summary, where);
  return exitCodeFor(summary);
}

function printSummary(io: CliIO, s: Summary, where: (key: string) => string): void {
  const lines: string[] = [];
  lines.push(`b24-lead-import: ${s.source}${s.dryRun ? ' (dry run)' : ''}`);
  if (s.refused) lines.push(`  refused: ${s.refused.code}: ${s.refused.message}`);
  else {
    const counts = STATUSES.filter((st) => (s.counts[st] ?? 0) > 0).map((st) => `${st} ${s.counts[st]}`);
    lines.push(`  rows: ${s.rows}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`);
    const codes = Object.entries(s.errorCodes).map(([c, n]) => `${c} ${n}`);
    if (codes.length > 0) lines.push(`  codes: ${codes.join(', ')}`);
  }
  if (s.cutShort) lines.push(`  cut short: ${s.cutShort.message}`);
  if (s.halted) lines.push(`  halted: ${s.halted.code}: ${s.halted.message}`);
  if (s.error) lines.push(`  run failed: ${s.error.code}: ${s.error.message}`);
  if (s.requests > 0) lines.push(`  requests: ${s.requests}, retries: ${s.retries}, throttled: ${Math.round(s.throttledMs / 1000)} s`);
  if (s.rowsPerSecond > 0) lines.push(`  speed: ${s.rowsPerSecond} rows/s`);
  lines.push(`  report:   ${where(s.report.report)}`);
  lines.push(`  rejected: ${where(s.report.rejected)}`);
  lines.push(`  summary:  ${where(s.report.summary)}`);
  if (s.report.plan) lines.push(`  plan:     ${where(s.report.plan)}`);
  (s.refused || s.error ? io.stderr : io.stdout).write(lines.join('\n') + '\n');
}

/** A single self-overwriting progress line on a terminal, at most 5 times a second. */
function progressLine(io: CliIO, started: number) {
  let last = 0;
  return {
    update: (p: { rows: number; bytes: number; total: number }) => {
      const t = Date.now();
      if (t - last < 200) return;
      last = t;
      const pct = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
      const rate = Math.round(p.rows / Math.max(0.001, (t - started) / 1000));
      io.stderr.write(`\r\x1b[K  ${p.rows.toLocaleString('en-US')} rows · ${pct}% · ${rate.toLocaleString('en-US')} rows/s`);
    },
    clear: () => {
      if (last > 0) io.stderr.write('\r\x1b[K');
    },
  };
}

function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * Run directly (`tsx lambda/cli/main.ts …`); bin/b24-lead-import.js imports `main` instead. The name check keeps
 * a bundle that merely contains this module (benchmarks, tools) from running the CLI on its own arguments.
 */
function isMain(): boolean {
  try {
    return (
      process.argv[1] !== undefined &&
      import.meta.url.endsWith('/cli/main.ts') &&
      import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
    );
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`b24-lead-import: ${redact((e as Error)?.message ?? String(e), process.env.BITRIX24_WEBHOOK_URL ?? '')}\n`);
      process.exitCode = 1;
    },
  );
}
