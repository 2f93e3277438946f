import { RunHaltedError, SendHaltedError } from '../errors.ts';
import { lineAfter } from '../rows/records.ts';
import { DEFERRED, type LeadSender, type RowOutcome } from '../types.ts';
import type { SendHooks } from '../calls/send/hooks.ts';
import type { ChunkJournal } from './journal.ts';
import type { Unreachable } from './outage.ts';
import type { ChunkParts } from './parts.ts';
import type { Checkpoint } from './state.ts';
import { type Item, skippedOutcome, skipUnsent, validOutcome, type Window, withWarnings } from './window.ts';

export interface ChunkProgress {
  /** Records with an outcome so far (whole run). */
  rows: number;
  /** Source bytes consumed so far. */
  bytes: number;
  /** Source size, bytes. */
  total: number;
}

export interface PipelineOptions {
  /** Without one every valid row is `valid` (dry run). */
  sender?: LeadSender;
  deadline: number;
  onProgress?: (p: ChunkProgress) => void;
  /** Source size, bytes (for progress). */
  total: number;
  /** What earlier attempts applied, and this attempt's record of it (absent: a dry run). */
  journal?: ChunkJournal;
}

/**
 * Sends windows and writes their outcomes to the parts, in input order, counting them in the checkpoint.
 * Only one window is with the sender at a time: the diff planner reads the leads when a window starts, so a
 * window planned while an earlier one may still write the same lead would plan against stale values; and rows
 * the sender defers at the deadline are then always the last ones, so the checkpoint loses no finished row.
 */
export class WindowPipeline {
  /** Set when the sender deferred a row: the chunk ends before it, and nothing more is sent or written. */
  deferred = false;
  /** Set when a send found the portal unreachable: the chunk ends; the workflow waits before the next one. */
  unreachable: Unreachable | undefined;
  /** Where the written rows end: the next chunk starts here. */
  offset: number;
  line: number;
  private readonly inFlight: Window[] = [];

  constructor(
    private readonly cp: Checkpoint,
    private readonly parts: ChunkParts,
    private readonly opts: PipelineOptions,
    start: { offset: number; line: number },
  ) {
    this.offset = start.offset;
    this.line = start.line;
  }

  /** Hands a closed window to the sender once the previous one is written (rows without a send are written at once). */
  async launch(w: Window): Promise<void> {
    if (w.items.length === 0 || this.deferred) return;
    // Rows an earlier attempt finished keep that outcome, even in a run halted since: they are not sent again.
    const hooks: SendHooks = {
      ...this.opts.journal?.prepare(w),
      unreachable: (code, message, since) => {
        this.unreachable ??= { code, message, since };
      },
    };
    if (this.cp.halted && w.rows.length > 0) skipUnsent(w, this.cp.halted);
    const { sender } = this.opts;
    await this.drain();
    if (sender && w.rows.length > 0) {
      if (this.deferred) return;
      // A sender that takes no hooks (a test double) simply ignores them.
      w.sent = sender.send(w.rows, this.opts.deadline, hooks);
      w.sent.catch(() => {}); // handled when flushed, in order
      this.inFlight.push(w);
    } else await this.flush(w);
  }

  /** Writes every window still with the sender. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.flush(this.inFlight.shift()!);
  }

  /** The sends not yet written, so a failed chunk can let them settle before it throws. */
  pending(): Array<Promise<RowOutcome[]> | undefined> {
    return this.inFlight.map((w) => w.sent);
  }

  /** Writes one window's outcomes in order; stops at the first DEFERRED one. */
  private async flush(w: Window): Promise<void> {
    const sent = w.sent ? await this.outcomesOf(w) : [];
    if (this.deferred) return; // an earlier window stopped the chunk: these rows are read again next time
    let k = 0;
    for (const item of w.items) {
      let outcome = item.outcome;
      if (!outcome) {
        const row = item.row!;
        outcome = w.sent ? withWarnings(sent[k++], row) : validOutcome(row);
        if (outcome.errorCode === DEFERRED) {
          this.deferred = true;
          return;
        }
      }
      const wrote = this.parts.add(outcome, item.raw);
      if (wrote) await wrote;
      this.count(item, outcome);
    }
    this.opts.onProgress?.({ rows: this.cp.rows, bytes: this.offset, total: this.opts.total });
  }

  /**
   * The sender's outcomes for a window. A run halted mid-window (RunHaltedError) halts the checkpoint; rows the
   * sender finished before the stop keep their outcome (SendHaltedError.outcomes): a row the portal updated
   * must not be reported `skipped`.
   */
  private async outcomesOf(w: Window): Promise<RowOutcome[]> {
    let sent: RowOutcome[];
    try {
      sent = await w.sent!;
    } catch (err) {
      if (!(err instanceof RunHaltedError)) throw err;
      this.cp.halted ??= { code: err.code, message: err.message };
      const halted = this.cp.halted;
      const finished = err instanceof SendHaltedError ? err.outcomes : undefined;
      sent = finished?.length === w.rows.length ? finished : w.rows.map((r) => skippedOutcome(r, halted));
    }
    if (sent.length !== w.rows.length) throw new Error(`the sender answered ${sent.length} outcomes for ${w.rows.length} rows`);
    return sent;
  }

  /** A written row is done: it counts in the checkpoint and the next chunk starts after it. */
  private count(item: Item, outcome: RowOutcome): void {
    const { cp } = this;
    cp.rows++;
    cp.counts[outcome.status] = (cp.counts[outcome.status] ?? 0) + 1;
    if (outcome.errorCode) cp.errorCodes[outcome.errorCode] = (cp.errorCodes[outcome.errorCode] ?? 0) + 1;
    if (item.row) cp.warnings += item.row.warnings.length;
    this.offset = item.end;
    this.line = lineAfter(item);
  }
}
