import { CsvCutShortError, FileRefusedError } from '../errors.ts';
import { compileRows } from '../payloads/compile.ts';
import { readHeader } from '../payloads/header.ts';
import { amountIndexes } from '../payloads/columnPlan.ts';
import { addressTally } from '../payloads/rowWarnings.ts';
import { decideDecimalMark } from '../payloads/values/decimalMark.ts';
import type { ObjectStore } from '../stores/store.ts';
import { rowOutcome } from '../report/outcome.ts';
import type { Catalogue, LeadSender, RowCheck, RowOutcome, SendStats, SourceRecord } from '../types.ts';
import { type ChunkSource, openChunkSource } from './chunkSource.ts';
import { ChunkJournal } from './journal.ts';
import { keyedSender } from './keyedSender.ts';
import { KeyTable } from './keyTable.ts';
import { matchSpecOf } from '../payloads/header.ts';
import { haltIfOutageOutlasted, recordOutage } from './outage.ts';
import { hasChangeLog } from '../report/changeFiles.ts';
import { undoRows } from '../undo/undoRows.ts';
import { ChunkParts } from './parts.ts';
import { repeatWarning, SeenIds } from './seenIds.ts';
import { recordPoint } from './series.ts';
import { type ChunkProgress, WindowPipeline } from './pipeline.ts';
import type { Checkpoint, RunState } from './state.ts';
import { addStats, copyStats, diffStats } from './stats.ts';
import { addRecord, DRY_WINDOW, emptyWindow, SENDER_WINDOW, windowFull } from './window.ts';

export type { ChunkProgress };

/** What one `runChunk` works with (the chunk Lambda's own edges are `ChunkDeps` in aws/chunkHandler.ts). */
export interface RunChunkDeps {
  source: ObjectStore;
  output: ObjectStore;
  /** The calls stage; without it every valid row is `valid` (dry run). */
  sender?: LeadSender;
  catalogue: Catalogue;
  now?: () => number;
  /** Epoch ms: no new rows are taken once reached (in-flight windows finish, the part is written). */
  deadline: number;
  onProgress?: (p: ChunkProgress) => void;
  /** Valid rows per window handed to the sender (default 2,500 with a sender: one diff read covers 2,500 leads). */
  windowRows?: number;
  /** Stop after this many records in this chunk (tests and the driver use it to force many chunks). */
  maxChunkRows?: number;
}

/**
 * Runs ONE chunk of a run: reads records from the checkpoint, validates them, hands valid rows to the sender in
 * windows (one at a time; the next window is read and validated meanwhile), and writes every outcome, in input
 * order, as one report part, one rejected part and (with a sender) one plan part. Returns the state with the
 * next checkpoint. Only rows in a written part count as done, so a chunk that dies is simply run again from the
 * same state and overwrites the same parts.
 *
 * @example
 * let state = newRunState({ … });
 * while (!state.checkpoint.done) state = await runChunk(state, { source, output, catalogue, deadline: Date.now() + 60_000 });
 */
export async function runChunk(state: RunState, deps: RunChunkDeps): Promise<RunState> {
  const now = deps.now ?? Date.now;
  const t0 = now();
  if (state.checkpoint.done) return state;
  const cp: Checkpoint = structuredClone(state.checkpoint);
  haltIfOutageOutlasted(cp, state.options, t0);

  let src: ChunkSource;
  let check: (r: SourceRecord) => RowCheck;
  let seen: SeenIds;
  let keys: KeyTable | undefined;
  try {
    src = await openChunkSource(state, cp, deps.source, deps.output);
    seen = await SeenIds.load(deps.output, state.partsPrefix, cp.part);
    check = warnRepeats(await compileCheck(cp, state, deps.catalogue, src), seen);
    keys = await openKeyTable(state, deps, cp.part);
  } catch (err) {
    if (!(err instanceof FileRefusedError)) throw err;
    // cp holds what was read before the refusal (the header, for rejected.csv).
    cp.refused = { code: err.code, message: err.message };
    cp.done = true;
    cp.activeMs += now() - t0;
    return { ...state, checkpoint: cp };
  }

  if (cp.pacer !== undefined) deps.sender?.resumePacer?.(cp.pacer);
  let journal: ChunkJournal | undefined;
  try {
    // A halted run sends nothing, but rows an earlier attempt applied keep that outcome (not `skipped`).
    const journaled = !state.options.dryRun && (deps.sender !== undefined || cp.halted !== undefined);
    journal = journaled ? await ChunkJournal.open(deps.output, state.partsPrefix, src.line) : undefined;
    // What an earlier attempt of this chunk planned with, before this one decides anything (journal.ts).
    if (keys && journal) for (const [key, leads] of journal.keyAnswers()) keys.set(key, leads);
  } catch (err) {
    await src.batches.return?.(undefined);
    throw err;
  }
  const withChanges = deps.sender !== undefined && hasChangeLog(state.options);
  const parts = new ChunkParts(deps.output, state.partsPrefix, cp.part, src.format, deps.sender !== undefined, withChanges);
  const statsBefore = deps.sender ? copyStats(deps.sender.stats()) : undefined;
  const runStart = Date.parse(state.startedAt);
  // The run's totals so far, at each window and at the chunk's end: report.html's time series.
  const sample = (rows: number) => {
    const sent = deps.sender && statsBefore ? addStats(cp.stats, diffStats(deps.sender.stats(), statsBefore)) : cp.stats;
    cp.series = recordPoint(cp.series, runStart, now(), rows, sent);
  };
  const onProgress = (p: ChunkProgress) => {
    sample(p.rows);
    deps.onProgress?.(p);
  };
  const sender = keys ? keyedSender(deps.sender!, keys) : deps.sender;
  const pipeline = new WindowPipeline(cp, parts, { sender, deadline: deps.deadline, onProgress, total: state.source.size, journal }, src);
  let reachedEnd: boolean;
  try {
    reachedEnd = await readWindows(src, check, pipeline, cp, { ...deps, now, maxRows: state.options.input.maxRows });
    await pipeline.drain();
    // What was applied is on record before the chunk returns: rows past a deferred one are not sent again.
    await journal?.flush();
    await seen.save(deps.output, state.partsPrefix, cp.part);
    await keys?.save(deps.output, state.partsPrefix, cp.part);
    await parts.end();
  } catch (err) {
    await Promise.allSettled([parts.abort(err as Error), ...pipeline.pending()]);
    // ...and before it fails: the retry settles from the record what this attempt had applied.
    await journal?.flush().catch(() => {});
    throw err;
  }

  const stats = deps.sender && statsBefore ? diffStats(deps.sender.stats(), statsBefore) : undefined;
  const next = nextCheckpoint(cp, pipeline, { reachedEnd, stats, activeMs: now() - t0 });
  next.series = recordPoint(next.series, runStart, now(), next.rows, next.stats);
  // What this chunk spent of the portal's budget, for the next chunk's pacer (a fresh Lambda knows nothing).
  const pacer = deps.sender?.pacerState?.();
  if (pacer !== undefined) next.pacer = pacer;
  recordOutage(next, pipeline.unreachable, now());
  return { ...state, checkpoint: next };
}

/** The row check for this file's header; a header the catalogue refuses throws FileRefusedError. */
async function compileCheck(
  cp: Checkpoint,
  state: RunState,
  catalogue: Catalogue,
  src: ChunkSource,
): Promise<(r: SourceRecord) => RowCheck> {
  const header = cp.header!;
  const { options } = state;
  try {
    if (options.undo) return undoRows(header);
    const plan = readHeader(header, { mapping: options.mapping, catalogue, ignoreUnknown: options.ignoreUnknown, match: options.match });
    cp.notices ??= plan.notices;
    // The decimal mark is settled once, from the first rows, and kept: every chunk reads amounts alike.
    cp.decimalMark ??= decideDecimalMark(options.decimalMark, amountCells(src.carry, amountIndexes(plan.columns)));
    cp.addressTally ??= addressTally();
    return compileRows(plan.columns, { ...options, decimalMark: cp.decimalMark }, catalogue, header.length, cp.addressTally);
  } catch (err) {
    // A halted run reads on without the portal: a header only the portal's fields resolve (its labels) is no
    // reason to refuse the file now; every remaining row is simply skipped with the halt's reason.
    const halted = cp.halted;
    if (halted && err instanceof FileRefusedError) return (r) => ({ ok: false, outcome: haltedRecord(r, halted) });
    await src.batches.return?.(undefined);
    throw err;
  }
}

/** `--match` with the portal: the run's key → lead answers so far (a key resolves once per run: keyTable.ts). */
async function openKeyTable(state: RunState, deps: RunChunkDeps, part: number): Promise<KeyTable | undefined> {
  const keyed = deps.sender !== undefined && !state.options.undo && matchSpecOf(state.options.match, deps.catalogue) !== undefined;
  return keyed ? KeyTable.load(deps.output, state.partsPrefix, part) : undefined;
}

/** The row check, plus a warning on a row whose lead an earlier line already named. */
function warnRepeats(check: (r: SourceRecord) => RowCheck, seen: SeenIds): (r: SourceRecord) => RowCheck {
  return (r) => {
    const c = check(r);
    if (!c.ok || c.row.id === 0) return c; // a --match row's lead is known only later
    const earlier = seen.note(c.row.id, c.row.line);
    if (earlier !== undefined) c.row.warnings.push(repeatWarning(c.row.line, c.row.id, earlier));
    return c;
  };
}

/** The amount cells of the first records, for deciding the file's decimal mark. */
function* amountCells(records: readonly SourceRecord[], indexes: readonly number[]): Generator<string> {
  for (const r of records) for (const i of indexes) if (r.cells[i]) yield r.cells[i];
}

/** A record of a halted run that was not validated (no catalogue to validate it against): skipped, with the reason. */
function haltedRecord(r: SourceRecord, halted: { code: string; message: string }): RowOutcome {
  return rowOutcome({ line: r.line, id: '', warnings: [] }, 'skipped', { errorCode: halted.code, message: halted.message });
}

interface ReadLimits {
  now: () => number;
  deadline: number;
  maxChunkRows?: number;
  /** The run's row limit (--max-rows). */
  maxRows: number;
  windowRows?: number;
  sender?: LeadSender;
}

/**
 * Reads and validates records into windows and launches each full one, until the file ends (true), the
 * deadline or the chunk's row limit is reached, the sender defers a row, or reading stops: malformed CSV and
 * the run's row limit set `cp.cutShort`. The last, partial window is launched too.
 */
async function readWindows(
  src: ChunkSource,
  check: (r: SourceRecord) => RowCheck,
  pipeline: WindowPipeline,
  cp: Checkpoint,
  limits: ReadLimits,
): Promise<boolean> {
  const windowRows = limits.windowRows ?? (limits.sender ? SENDER_WINDOW : DRY_WINDOW);
  let current = emptyWindow();
  const launch = () => {
    const w = current;
    current = emptyWindow();
    return pipeline.launch(w);
  };
  let taken = 0;
  // The rows done before this chunk: cp.rows grows as this chunk's windows are written, and they are in `taken`.
  const rowsBefore = cp.rows;
  let reachedEnd = false;
  try {
    reading: for (let batch = src.carry; ; ) {
      for (const rec of batch) {
        if (pipeline.deferred) break reading;
        if (taken > 0 && (limits.now() >= limits.deadline || (limits.maxChunkRows !== undefined && taken >= limits.maxChunkRows)))
          break reading;
        if (rowsBefore + taken >= limits.maxRows) {
          cp.cutShort = {
            line: rec.line,
            message: `the file has more than ${limits.maxRows} rows (the limit, --max-rows): reading stopped at line ${rec.line}`,
          };
          break reading;
        }
        taken++;
        addRecord(current, rec, check(rec), cp.halted);
        if (windowFull(current, windowRows)) await launch();
      }
      const next = await src.batches.next();
      if (next.done) {
        reachedEnd = true;
        break;
      }
      batch = next.value;
    }
  } catch (err) {
    if (!(err instanceof CsvCutShortError)) throw err;
    cp.cutShort = { line: err.line, message: err.message };
  } finally {
    await src.batches.return?.(undefined);
  }
  await launch();
  return reachedEnd;
}

/** The checkpoint the next chunk starts from: after the last written row; done unless rows are left to read. */
function nextCheckpoint(
  cp: Checkpoint,
  pipeline: WindowPipeline,
  chunk: { reachedEnd: boolean; stats: SendStats | undefined; activeMs: number },
): Checkpoint {
  if (chunk.stats) cp.stats = addStats(cp.stats, chunk.stats);
  cp.offset = pipeline.offset;
  cp.line = pipeline.line;
  cp.part += 1;
  cp.done = !pipeline.deferred && (chunk.reachedEnd || cp.cutShort !== undefined);
  cp.activeMs += chunk.activeMs;
  return cp;
}
