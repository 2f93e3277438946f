import { createHash } from 'node:crypto';

/**
 * Where a run's objects live in the bucket. Kept apart from the handlers and the engine so the CLI and the
 * start Lambda can name these keys without loading either.
 */

/** Uploads under this prefix start a run. */
export const INCOMING = 'incoming/';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** The longest name a run writes under its report prefix (`rejected.csv`, `summary.json`), with room to spare. */
const REPORT_NAME_BYTES = 32;

/** Where start writes an undo's input (`{ "undo": … }`): outside incoming/, so writing it starts no run by itself. */
export const UNDO_INPUTS = 'undo/';

/** Where every run reports. */
export const REPORTS = 'reports/';

/**
 * reports/<name>/<runId>/, the name from the source key: incoming/<name> → <name>; an undo's input
 * undo/<name>/<run>.csv → <name>-undo (beside the run it takes back); any other key as it is. A source key so
 * long that the report keys would pass S3's 1,024 bytes keeps as much of its name as fits, then `~` and a hash
 * of the whole key: still deterministic and distinct.
 */
export function reportPrefixFor(key: string, runId: string): string {
  const name = reportNameOf(key);
  const full = `${REPORTS}${name}/${runId}/`;
  if (Buffer.byteLength(full) + REPORT_NAME_BYTES <= MAX_KEY_BYTES) return full;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const room = MAX_KEY_BYTES - REPORT_NAME_BYTES - Buffer.byteLength(`reports//${runId}/~${hash}`);
  return `reports/${cutToBytes(name, room)}~${hash}/${runId}/`;
}

function reportNameOf(key: string): string {
  if (key.startsWith(INCOMING)) return key.slice(INCOMING.length);
  const undo = key.startsWith(UNDO_INPUTS) ? /^(.+)\/[^/]+\.csv$/.exec(key.slice(UNDO_INPUTS.length)) : null;
  return undo ? `${undo[1]}-undo` : key;
}

/** A run's report folder as a person names it: `reports/<name>/<run>/` (trailing slash optional). */
export interface RunPrefix {
  /** Normalised, with its trailing slash. */
  prefix: string;
  name: string;
  run: string;
}

/** `reports/<name…>/<run>/` → its parts; undefined for anything else (empty, `.` or `..` segments, no run). */
export function runOfReportPrefix(text: string): RunPrefix | undefined {
  if (!text.startsWith(REPORTS)) return undefined;
  const parts = text.slice(REPORTS.length).replace(/\/$/, '').split('/');
  if (parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  const run = parts.pop() as string;
  const name = parts.join('/');
  return { prefix: `${REPORTS}${name}/${run}/`, name, run };
}

/** The key of the undo input of the run reported under `reportPrefix`: undo/<name>/<run>.csv (undefined: not a run's prefix). */
export function undoInputKeyFor(reportPrefix: string): string | undefined {
  const at = runOfReportPrefix(reportPrefix);
  return at && `${UNDO_INPUTS}${at.name}/${at.run}.csv`;
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes, cut between characters. */
function cutToBytes(text: string, bytes: number): string {
  let used = 0;
  let out = '';
  for (const ch of text) {
    used += Buffer.byteLength(ch);
    if (used > bytes) break;
    out += ch;
  }
  return out;
}

/** Step Functions names: 1–80 of [A-Za-z0-9-_]. */
export function executionNameFor(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

/** Where the chunk handler keeps the run's header (cells and raw line) between steps. */
export function headerKeyFor(partsPrefix: string): string {
  return `${partsPrefix}header.json`;
}

/** parts/<runId>/: the chunks' report parts, until finalize joins them. */
export function partsPrefixFor(runId: string): string {
  return `parts/${runId}/`;
}

/** The kinds of part a chunk writes; `plan` only when rows go through a sender (what each row changes). */
export type PartKind = 'report' | 'rejected' | 'rejected-safe' | 'plan' | 'changes' | 'changes-json';

/** Key of a chunk's report part (and, with `.rejected.csv`, its rejected part). */
export function partKey(partsPrefix: string, part: number, kind: PartKind): string {
  return `${partsPrefix}${String(part).padStart(6, '0')}.${kind}.csv`;
}
