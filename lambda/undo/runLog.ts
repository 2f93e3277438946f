import { CHANGES_JSON_FILE } from '../report/changeFiles.ts';
import { SUMMARY_FILE } from '../report/lines.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';

/**
 * A run's change log read for its undo, from the run's report folder in any store (a local folder for the
 * CLI, the bucket for the CLI's s3:// form and for the start function), or the one message that says why there
 * is none. Both the CLI and the Lambda refuse in these words.
 */

/** The log as read, and the version read (an undo of the same log is the same undo). */
export interface RunLog {
  jsonl: string;
  info: ObjectInfo;
}

/** The largest log a reader accepts, and what the refusal suggests instead. */
export interface LogLimit {
  bytes: number;
  instead: string;
}

/** `reports/a.csv/r1` → `reports/a.csv/r1/` (how a folder is named in messages). */
const slashed = (given: string) => given.replace(/\/*$/, '/');

/**
 * `<prefix>changes.jsonl` from `store` (prefix '' for a folder store), pinned to the version it heads. When it
 * cannot be read, the run's summary.json says why (a dry run or --no-diff keeps no log).
 */
export async function readRunLog(
  store: ObjectStore,
  prefix: string,
  given: string,
  limit?: LogLimit,
): Promise<RunLog | { problem: string }> {
  const key = `${prefix}${CHANGES_JSON_FILE}`;
  let info: ObjectInfo;
  let jsonl: string;
  try {
    info = await store.head(key);
    if (limit && info.size > limit.bytes) return { problem: tooLarge(given, info.size, limit) };
    jsonl = await readText(store, key, info);
  } catch (err) {
    return { problem: noLogReason(given, await readText(store, `${prefix}${SUMMARY_FILE}`).catch(() => undefined), err) };
  }
  return { jsonl, info };
}

/**
 * Why a run folder's change log cannot be had: its summary.json (the text, undefined when it could not be read)
 * says whether the run kept one; without a summary the folder is no finished run's.
 */
export function noLogReason(given: string, summaryText: string | undefined, err: unknown): string {
  const summary = parsedSummary(summaryText);
  if (summary?.changeLog === false) {
    const why = summary.dryRun ? 'a dry run' : 'it ran with --no-diff, which reads nothing';
    return `${given}: that run has no change log (${why}), so it cannot be undone`;
  }
  if (summary && summary.changeLog === undefined) {
    return `${given}: that run has no change log (it ran before runs kept one), so it cannot be undone`;
  }
  if (!summary && isAbsent(err)) return `${given} is not a run's report folder with a change log (${CHANGES_JSON_FILE})`;
  const e = err as NodeJS.ErrnoException;
  return `cannot read ${slashed(given)}${CHANGES_JSON_FILE}: ${e.code ?? e.name}${e.message && e.message !== e.code ? `: ${e.message}` : ''}`;
}

function tooLarge(given: string, size: number, limit: LogLimit): string {
  const mb = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${given}: its change log (${CHANGES_JSON_FILE}) is ${mb(size)}, more than the ${mb(limit.bytes)} read here; ${limit.instead}`;
}

function parsedSummary(text: string | undefined): { changeLog?: boolean; dryRun?: boolean } | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as unknown;
    return typeof s === 'object' && s !== null && !Array.isArray(s) ? (s as { changeLog?: boolean; dryRun?: boolean }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Not there: a missing file or key. S3 answers a role that may not list the bucket AccessDenied (403) for a
 * missing key, so that counts as absent too; the message then depends on the summary, read the same way.
 */
function isAbsent(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e.code === 'ENOENT' || ['NoSuchKey', 'NotFound', 'AccessDenied', 'Forbidden'].includes(e.name ?? '');
}

/** Pinned by ETag only: a report is written once, and a version id would need s3:GetObjectVersion as well. */
async function readText(store: ObjectStore, key: string, pin?: ObjectInfo): Promise<string> {
  const chunks: Buffer[] = [];
  const stream = await store.read(key, pin?.etag ? { pin: { etag: pin.etag } } : {});
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
