import type { RunOptions } from '../config.ts';
import type { TextEncoding } from '../rows/text.ts';
import type { AddressTally } from '../payloads/rowWarnings.ts';
import type { RunSeries, SeriesTotals } from './series.ts';
import type { ObjectInfo } from '../stores/store.ts';
import type { RowStatus, SendStats } from '../types.ts';

/**
 * The state passed between the steps start → chunk → … → chunk → finalize.
 * In AWS it is the Step Functions execution state (JSON, ≤ 256 KiB: kept to a few KB, the header is in S3);
 * locally the driver loops over it.
 * Everything a chunk needs to continue exactly where the last one stopped lives here.
 */
export interface RunState {
  runId: string;
  /** Where the CSV is: bucket ('' for the local filesystem store) + object info pinned at start. */
  source: { bucket: string } & ObjectInfo;
  /** Where report.csv, rejected.csv, summary.json go (prefix inside the output store, '' or ending in '/'). */
  reportPrefix: string;
  /** Where the chunks' report parts go (prefix ending in '/'). */
  partsPrefix: string;
  options: RunOptions;
  startedAt: string;
  checkpoint: Checkpoint;
  /**
   * This execution's share of the run. A days-long run goes on in fresh executions (Step Functions caps an
   * execution's history and time): `index` 1 is the first, and the chunk handler hands over after a number of
   * chunks or hours. Absent = first execution, nothing counted yet.
   */
  segment?: Segment;
  /** Set by the chunk that ended this execution's share: the execution that continues the run. */
  continueAs?: string;
}

export interface Segment {
  index: number;
  /** Chunks finished in this execution. */
  chunks: number;
  /** When this execution's share began (ISO). */
  startedAt: string;
}

export interface Checkpoint {
  /** Absolute byte offset of the next unread record (after the header on the first chunk). */
  offset: number;
  /** Source line the next record starts on. */
  line: number;
  /** Next report part number. */
  part: number;
  /** Resolved once on the first chunk and kept so later chunks can read from the middle. */
  format?: {
    encoding: TextEncoding;
    delimiter: ',' | ';' | '\t' /** The source starts with a UTF-8 BOM (rejected.csv keeps it). */;
    bom?: boolean;
  };
  /** Only inside a step: between steps the header lives in S3 under `headerKey` (a wide header would outgrow the state). */
  header?: string[];
  /** Raw header line, for rejected.csv (inside a step only, like `header`). */
  headerRaw?: string;
  /** Where the chunk handler keeps `header` and `headerRaw` (JSON) once read: beside the run's parts. */
  headerKey?: string;
  /**
   * The source is an .xlsx workbook: the first chunk converted its first sheet to this CSV beside the run's parts
   * (removed with them by finalize), and every chunk reads it instead, pinned by its ETag. `source` stays the workbook.
   */
  staged?: { key: string; etag: string };
  rows: number;
  counts: Partial<Record<RowStatus, number>>;
  errorCodes: Record<string, number>;
  warnings: number;
  stats: SendStats;
  /** Milliseconds spent in chunks, summed (for rows/s). */
  activeMs: number;
  done: boolean;
  /** Set when the whole file was refused (exit 2). */
  refused?: { code: string; message: string };
  /** Set when reading stopped on malformed CSV; rows before it keep their outcomes. */
  cutShort?: { line: number; message: string };
  /** Set when the run halted (OVERLOAD_LIMIT…): later rows are `skipped`. */
  halted?: { code: string; message: string };
  /** Chunks in a row that finished no row (the sender deferred them all); absent = the last chunk moved. See `progressGuard`. */
  idleChunks?: number;
  /**
   * Set while the portal is unreachable (refused connections, timeouts, 502/503/504 pages): since when (epoch ms)
   * and the last failure. Cleared once it answers again; past the run's outage wait the run halts PORTAL_UNREACHABLE.
   */
  unreachable?: { since: number; code: string; message: string };
  /**
   * Epoch ms before which the next chunk should not start (the portal is unreachable): the workflow waits
   * (Step Functions: a Wait state with `TimestampPath` on this, as ISO, or `SecondsPath`), the CLI's driver sleeps.
   * Absent = go on at once.
   */
  waitUntil?: number;
  /**
   * The pacer's recent charges (per method: what was spent when, the portal clock's offset), so the next chunk,
   * a fresh Lambda, neither draws a refusal nor waits needlessly at its start. A few KB of JSON; the sender's own.
   */
  pacer?: unknown;
  /** The run's totals over time (rows, requests, waits, limit errors), for report.html's chart. */
  series?: RunSeries;
  /** File-level warnings, once per run (the columns a run skips, each named once). Set by the first chunk. */
  notices?: string[];
  /** The file's decimal mark for ambiguous amounts, settled from the first rows by the first chunk. */
  decimalMark?: 'auto' | ',' | '.';
  /** Rows with a partial address, for the run's one warning (instead of one on every row). */
  addressTally?: AddressTally;
  /** `waitUntil` as ISO 8601: the Wait state's `TimestampPath` takes no epoch numbers. Set and cleared with it. */
  waitUntilIso?: string;
}

/** summary.json */
export interface Summary {
  source: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  rows: number;
  counts: Partial<Record<RowStatus, number>>;
  errorCodes: Record<string, number>;
  dryRun: boolean;
  complete: boolean;
  refused?: { code: string; message: string };
  cutShort?: { line: number; message: string };
  halted?: { code: string; message: string };
  /** A run-level failure (a chunk crashed, the portal could not be opened): the report holds the rows done before it. */
  error?: { code: string; message: string };
  warnings: number;
  /** File-level warnings: the columns skipped, partial addresses counted once, the decimal mark settled. */
  notices?: string[];
  /** Per time slot (`minute` since the start): rows done, requests, ms waiting for the limits, limit errors. */
  series?: SeriesTotals[];
  requests: number;
  retries: number;
  throttledMs: number;
  limitErrors: Record<string, number>;
  rowsPerSecond: number;
  /** Where the files are; `plan` (plan.csv) exists when rows went through the portal (diff preview / changes). */
  report: {
    report: string;
    rejected: string;
    rejectedSafe?: string;
    summary: string;
    plan?: string;
    html?: string;
    /** The change log (a real run in diff mode): changes.csv to read, changes.jsonl for undo. */
    changes?: string;
    changesJson?: string;
  };
  /** false: the run read nothing (--no-diff, or a dry run), so it has no change log and cannot be undone. */
  changeLog?: boolean;
}
