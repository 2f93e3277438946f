import { stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PortalSession } from '../calls/session.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import { finalizeRun } from '../report/finalize.ts';
import { FsStore } from '../stores/fsStore.ts';
import { exitCodeFor, PLAN_FILE, REJECTED_FILE, REPORT_FILE, STATUSES, SUMMARY_FILE } from '../report/lines.ts';
import { driveRun, newRunState } from '../run/drive.ts';
import type { RunState, Summary } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { openS3Source, parseS3Url, type S3Source } from './s3Source.ts';
import { redact } from '../calls/webhook.ts';
import { UsageError } from '../errors.ts';
import { type Parsed, parseCli } from './parse.ts';
import { USAGE } from './usage.ts';

export { decodeMapping } from './mapping.ts';
export { parseCli } from './parse.ts';
export { USAGE } from './usage.ts';

/** Where the CLI writes; the real process or a test's capture. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
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
