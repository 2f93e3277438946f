import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { CsvCutShortError, FileRefusedError, RunHaltedError, SendHaltedError } from '../errors.ts';
import { resolveHeader } from '../payloads/header.ts';
import { rowOutcome } from '../report/outcome.ts';
import { compileRows } from '../payloads/compile.ts';
import { formatOutcome, formatPlan, formatRejected, isRejected } from '../report/lines.ts';
import { lineAfter, readRecordBatches, encodeText, type RecordFormat } from '../rows/records.ts';
import { detectFormat, HEAD_BYTES } from '../source/format.ts';
import type { Checkpoint, RunState } from './state.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';
import {
  DEFERRED,
  type Catalogue,
  type LeadSender,
  type RowCheck,
  type RowOutcome,
  type SendStats,
  type SourceRecord,
  type ValidRow,
} from '../types.ts';

export interface ChunkProgress {
  /** Records with an outcome so far (whole run). */
  rows: number;
  /** Source bytes consumed so far. */
  bytes: number;
  /** Source size, bytes. */
  total: number;
}

export interface ChunkDeps {
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

/** Key of a chunk's report part (and, with `.rejected.csv`, its rejected part). */
export function partKey(partsPrefix: string, part: number, kind: PartKind): string {
  return `${partsPrefix}${String(part).padStart(6, '0')}.${kind}.csv`;
}

/** The kinds of part a chunk writes; `plan` only when rows go through a sender (what each row changes). */
export type PartKind = 'report' | 'rejected' | 'plan';

/** Dry-run windows only pace the writes; sender windows match one diff read (50 list commands × 50 IDs). */
const DRY_WINDOW = 250;
export const SENDER_WINDOW = 2500;
/** A window is also closed at this many source bytes, so big rows (up to the record limit each) keep memory bounded. */
const WINDOW_BYTES = 8 * 1024 * 1024;
const PIECE_BYTES = 64 * 1024;

/** One record on its way through the chunk: its place in the input and what became of it. */
interface Item {
  line: number;
  start: number;
  end: number;
  raw: string;
  /** Set for rows that failed validation (or were skipped without sending). */
  outcome?: RowOutcome;
  row?: ValidRow;
}

interface Window {
  items: Item[];
  rows: ValidRow[];
  /** Source bytes of the items (their raw text is held until the window is written). */
  bytes: number;
  /** Outcomes of `rows`, in order; undefined when nothing was sent. */
  sent?: Promise<RowOutcome[]>;
}

/**
 * Runs ONE chunk of a run: reads records from the checkpoint, validates them, hands valid rows to the sender in
 * windows (one at a time; the next window is read and validated meanwhile), and writes every outcome, in input
 * order, as one report part, one rejected part and (with a sender) one plan part. Returns the state with the next checkpoint. Only rows in a written part
 * count as done, so a chunk that dies is simply run again from the same state and overwrites the same parts.
 *
 * @example
 * let state = newRunState({ … });
 * while (!state.checkpoint.done) state = await runChunk(state, { source, output, catalogue, deadline: Date.now() + 60_000 });
 */
export async function runChunk(state: RunState, deps: ChunkDeps): Promise<RunState> {
  const now = deps.now ?? Date.now;
  const t0 = now();
  if (state.checkpoint.done) return state;
  const cp: Checkpoint = structuredClone(state.checkpoint);
  const options = state.options;
  const pin = pinOf(state.source);
  const key = state.source.key;

  let offset = cp.offset;
  let line = cp.line;
  const refuse = (err: FileRefusedError): RunState => ({
    ...state,
    checkpoint: { ...cp, refused: { code: err.code, message: err.message }, done: true, activeMs: cp.activeMs + (now() - t0) },
  });

  // First chunk: refuse early, detect the format; the header is the first record of the stream below.
  if (!cp.header) {
    const size = state.source.size;
    if (size > options.input.maxBytes) {
      return refuse(
        new FileRefusedError('FILE_TOO_LARGE', `the file is ${size} bytes, over the ${options.input.maxBytes}-byte limit (--max-bytes)`),
      );
    }
    if (size === 0) return refuse(new FileRefusedError('EMPTY_FILE', 'the file is empty: there is not even a header line'));
    try {
      const f = detectFormat(await readHead(deps.source, key, pin), options);
      cp.format = { encoding: f.encoding, delimiter: f.delimiter, bom: f.bomLength > 0 };
      offset = f.headerOffset;
      line = f.headerLine;
    } catch (err) {
      if (err instanceof FileRefusedError) return refuse(err);
      throw err;
    }
  }
  const format: RecordFormat = cp.format!;

  const stream = await deps.source.read(key, { start: offset, pin });
  const batches = readRecordBatches(stream, format, { offset, line, maxCellBytes: options.input.maxCellBytes });
  const iterator = batches[Symbol.asyncIterator]();
  let carry: SourceRecord[] = [];

  if (!cp.header) {
    let first: SourceRecord | undefined;
    try {
      while (!first) {
        const next = await iterator.next();
        if (next.done) break;
        [first, ...carry] = next.value;
      }
    } catch (err) {
      await iterator.return?.(undefined);
      if (err instanceof CsvCutShortError)
        return refuse(new FileRefusedError('MALFORMED_CSV', `the header cannot be read: ${err.message}`));
      throw err;
    }
    if (!first) {
      await iterator.return?.(undefined);
      return refuse(new FileRefusedError('EMPTY_FILE', 'the file is empty: there is not even a header line'));
    }
    cp.header = first.cells;
    cp.headerRaw = first.raw;
    offset = first.end;
    line = lineAfter(first);
  }

  let check: (r: SourceRecord) => RowCheck;
  try {
    const columns = resolveHeader(cp.header, { mapping: options.mapping, catalogue: deps.catalogue });
    check = compileRows(columns, options, deps.catalogue, cp.header.length);
  } catch (err) {
    await iterator.return?.(undefined);
    if (err instanceof FileRefusedError) return refuse(err); // cp already holds the header, for rejected.csv
    throw err;
  }

  const report = new PartWriter(deps.output, partKey(state.partsPrefix, cp.part, 'report'), 'utf-8');
  const rejected = new PartWriter(deps.output, partKey(state.partsPrefix, cp.part, 'rejected'), format.encoding);
  const statsBefore = deps.sender ? copyStats(deps.sender.stats()) : undefined;
  const plan = deps.sender ? new PartWriter(deps.output, partKey(state.partsPrefix, cp.part, 'plan'), 'utf-8') : undefined;
  const windowRows = deps.windowRows ?? (deps.sender ? SENDER_WINDOW : DRY_WINDOW);
  const inFlight: Window[] = [];
  let current: Window = { items: [], rows: [], bytes: 0 };
  let taken = 0;
  /** Set when the sender deferred a row: the chunk ends before it. */
  let deferred = false;
  let reachedEnd = false;

  /** Writes one window's outcomes in order; stops at the first DEFERRED one. */
  const flush = async (w: Window): Promise<void> => {
    let sent: RowOutcome[] = [];
    if (w.sent) {
      try {
        sent = await w.sent;
      } catch (err) {
        if (!(err instanceof RunHaltedError)) throw err;
        cp.halted ??= { code: err.code, message: err.message };
        // Rows the sender finished before the stop keep their outcome (SendHaltedError.outcomes): a row the
        // portal updated must not be reported `skipped`.
        const finished = err instanceof SendHaltedError ? err.outcomes : undefined;
        sent = finished?.length === w.rows.length ? finished : w.rows.map((r) => skippedOutcome(r, cp.halted!));
      }
      if (sent.length !== w.rows.length) throw new Error(`the sender answered ${sent.length} outcomes for ${w.rows.length} rows`);
    }
    if (deferred) return; // an earlier window stopped the chunk: these rows are read again next time
    let k = 0;
    for (const item of w.items) {
      let outcome = item.outcome;
      if (!outcome) {
        const row = item.row!;
        outcome = w.sent ? withWarnings(sent[k++], row) : validOutcome(row);
        if (outcome.errorCode === DEFERRED) {
          deferred = true;
          return;
        }
      }
      // `add` only returns a promise when the store is behind: no await per row otherwise.
      const wrote = report.add(formatOutcome(outcome));
      if (wrote) await wrote;
      if (isRejected(outcome.status)) await rejected.add(formatRejected(item.raw));
      if (plan) await plan.add(formatPlan(outcome));
      cp.rows++;
      cp.counts[outcome.status] = (cp.counts[outcome.status] ?? 0) + 1;
      if (outcome.errorCode) cp.errorCodes[outcome.errorCode] = (cp.errorCodes[outcome.errorCode] ?? 0) + 1;
      if (item.row) cp.warnings += item.row.warnings.length;
      offset = item.end;
      line = lineAfter(item);
    }
    deps.onProgress?.({ rows: cp.rows, bytes: offset, total: state.source.size });
  };

  /**
   * Closes the window being filled and hands it to the sender once the previous window is written. Only one
   * window is with the sender at a time: the diff planner reads the leads when a window starts, so a window
   * planned while an earlier one may still write the same lead would plan against stale values; and rows the
   * sender defers at the deadline are then always the last ones, so the checkpoint loses no finished row.
   */
  const launch = async (): Promise<void> => {
    const w = current;
    current = { items: [], rows: [], bytes: 0 };
    if (w.items.length === 0 || deferred) return; // after a deferral nothing more is sent or written
    if (cp.halted && w.rows.length > 0) {
      // The run halted while this window was filling: its rows are not sent.
      for (const item of w.items) if (item.row && !item.outcome) item.outcome = skippedOutcome(item.row, cp.halted);
      w.rows = [];
    }
    if (deps.sender && w.rows.length > 0) {
      while (inFlight.length > 0) await flush(inFlight.shift()!);
      if (deferred) return;
      w.sent = deps.sender.send(w.rows, deps.deadline);
      w.sent.catch(() => {}); // handled when flushed, in order
      inFlight.push(w);
    } else {
      while (inFlight.length > 0) await flush(inFlight.shift()!);
      await flush(w);
    }
  };

  try {
    try {
      reading: for (let batch = carry; ; ) {
        for (const rec of batch) {
          if (deferred) break reading;
          if (taken > 0 && (now() >= deps.deadline || (deps.maxChunkRows !== undefined && taken >= deps.maxChunkRows))) break reading;
          if (cp.rows + taken >= options.input.maxRows) {
            cp.cutShort = {
              line: rec.line,
              message: `the file has more than ${options.input.maxRows} rows (the limit, --max-rows): reading stopped at line ${rec.line}`,
            };
            break reading;
          }
          taken++;
          const item: Item = { line: rec.line, start: rec.start, end: rec.end, raw: rec.raw };
          const r = check(rec);
          if (!r.ok) item.outcome = r.outcome;
          else if (cp.halted) {
            item.row = r.row;
            item.outcome = skippedOutcome(r.row, cp.halted);
          } else {
            item.row = r.row;
            current.rows.push(r.row);
          }
          current.items.push(item);
          current.bytes += rec.end - rec.start;
          if (current.rows.length >= windowRows || current.items.length >= windowRows * 4 || current.bytes >= WINDOW_BYTES) await launch();
        }
        const next = await iterator.next();
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
      await iterator.return?.(undefined);
    }
    await launch();
    while (inFlight.length > 0) await flush(inFlight.shift()!);
    await report.end();
    await rejected.end();
    await plan?.end();
  } catch (err) {
    report.abort(err as Error);
    rejected.abort(err as Error);
    plan?.abort(err as Error);
    await Promise.allSettled([report.done, rejected.done, plan?.done, ...inFlight.map((w) => w.sent)]);
    throw err;
  }

  if (deps.sender && statsBefore) cp.stats = addStats(cp.stats, diffStats(deps.sender.stats(), statsBefore));
  cp.offset = offset;
  cp.line = line;
  cp.part += 1;
  cp.done = !deferred && (reachedEnd || cp.cutShort !== undefined);
  cp.activeMs += now() - t0;
  return { ...state, checkpoint: cp };
}

function pinOf(source: ObjectInfo): Pick<ObjectInfo, 'etag' | 'versionId'> | undefined {
  if (!source.etag && !source.versionId) return undefined;
  return { ...(source.etag ? { etag: source.etag } : {}), ...(source.versionId ? { versionId: source.versionId } : {}) };
}

async function readHead(store: ObjectStore, key: string, pin: ReturnType<typeof pinOf>): Promise<Buffer> {
  const stream = await store.read(key, { start: 0, pin });
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      parts.push(buf);
      size += buf.length;
      if (size >= HEAD_BYTES) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES);
}

function validOutcome(row: ValidRow): RowOutcome {
  return rowOutcome(row, 'valid');
}

function skippedOutcome(row: ValidRow, halted: { code: string; message: string }): RowOutcome {
  return rowOutcome(row, 'skipped', { errorCode: halted.code, message: halted.message });
}

/** A valid row's warnings belong in its report line whatever the portal said. */
function withWarnings(o: RowOutcome, row: ValidRow): RowOutcome {
  if (row.warnings.length === 0 || o.errorCode === DEFERRED) return o;
  const missing = row.warnings.filter((w) => !o.message.includes(w));
  if (missing.length === 0) return o;
  return { ...o, message: [o.message, ...missing].filter(Boolean).join('; ') };
}

function copyStats(s: SendStats): SendStats {
  return { ...s, limitErrors: { ...s.limitErrors } };
}

/** What the sender did during this chunk (its stats may be cumulative over several chunks). */
function diffStats(after: SendStats, before: SendStats): SendStats {
  const limitErrors: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.limitErrors)) {
    const d = v - (before.limitErrors[k] ?? 0);
    if (d !== 0) limitErrors[k] = d;
  }
  const out: SendStats = {
    requests: after.requests - before.requests,
    retries: after.retries - before.retries,
    throttledMs: after.throttledMs - before.throttledMs,
    limitErrors,
  };
  if (after.operatingSeconds !== undefined) out.operatingSeconds = after.operatingSeconds - (before.operatingSeconds ?? 0);
  if (after.writes !== undefined) out.writes = after.writes - (before.writes ?? 0);
  if (after.reads !== undefined) out.reads = after.reads - (before.reads ?? 0);
  return out;
}

export function addStats(a: SendStats, b: SendStats): SendStats {
  const limitErrors = { ...a.limitErrors };
  for (const [k, v] of Object.entries(b.limitErrors)) limitErrors[k] = (limitErrors[k] ?? 0) + v;
  const out: SendStats = {
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    throttledMs: a.throttledMs + b.throttledMs,
    limitErrors,
  };
  if (a.operatingSeconds !== undefined || b.operatingSeconds !== undefined)
    out.operatingSeconds = (a.operatingSeconds ?? 0) + (b.operatingSeconds ?? 0);
  if (a.writes !== undefined || b.writes !== undefined) out.writes = (a.writes ?? 0) + (b.writes ?? 0);
  if (a.reads !== undefined || b.reads !== undefined) out.reads = (a.reads ?? 0) + (b.reads ?? 0);
  return out;
}

/**
 * Streams text lines into one stored object with backpressure, in 64 KiB pieces, so a part of a million lines
 * never sits in memory. Lines are encoded straight into a byte buffer: the strings die young (no long cons
 * strings promoted to the old heap). The store consumes the stream while the chunk produces it.
 */
class PartWriter {
  readonly done: Promise<void>;
  private readonly stream = new PassThrough();
  private buf = Buffer.allocUnsafe(PIECE_BYTES);
  private used = 0;

  constructor(
    output: ObjectStore,
    key: string,
    private readonly encoding: RecordFormat['encoding'],
  ) {
    this.done = output.write(key, this.stream as Readable, 'text/csv');
    this.done.catch(() => {}); // observed in add/end
  }

  /** Adds a line; returns a promise only when a piece went to the store (await it: backpressure). */
  add(text: string): Promise<void> | undefined {
    const utf8 = this.encoding === 'utf-8';
    const worst = utf8 ? text.length * 3 : text.length;
    let wait: Promise<void> | undefined;
    if (this.used + worst > PIECE_BYTES) wait = this.flush();
    if (worst > PIECE_BYTES) {
      const big = utf8 ? Buffer.from(text, 'utf8') : encodeText(text, this.encoding);
      const more = this.send(big);
      return wait && more ? Promise.all([wait, more]).then(() => {}) : (wait ?? more);
    }
    if (utf8) this.used += this.buf.write(text, this.used, 'utf8');
    else this.used += encodeText(text, this.encoding).copy(this.buf, this.used);
    return wait;
  }

  private flush(): Promise<void> | undefined {
    if (this.used === 0) return undefined;
    const piece = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(PIECE_BYTES);
    this.used = 0;
    return this.send(piece);
  }

  private send(piece: Buffer): Promise<void> | undefined {
    if (this.stream.write(piece)) return undefined;
    return Promise.race([once(this.stream, 'drain').then(() => {}), this.done]);
  }

  async end(): Promise<void> {
    const wait = this.flush();
    if (wait) await wait;
    this.stream.end();
    await this.done;
  }

  abort(err: Error): void {
    this.stream.destroy(err);
  }
}
