import type { RunHaltedError } from '../../errors.ts';
import { SendHaltedError } from '../../errors.ts';
import { DEFERRED, type RowOutcome, type ValidRow } from '../../types.ts';
import type { SendHooks } from './hooks.ts';
import type { SendItem } from './item.ts';
import { outcome } from './outcomes.ts';

/** One `send` call's state: each row's outcome once final, the rows still waiting, and whether to stop. */
export class SendWindow {
  readonly outcomes: (RowOutcome | undefined)[];
  /** Waiting rows, kept in file order. */
  pending: SendItem[] = [];
  private stopped = false;
  private halted: RunHaltedError | undefined;

  constructor(
    size: number,
    readonly deadline: number,
    readonly hooks: SendHooks = {},
  ) {
    this.outcomes = new Array<RowOutcome | undefined>(size);
  }

  settle(it: SendItem, o: RowOutcome): void {
    this.decide(it.index, it.row, o);
  }

  /** A row's final outcome; the engine hears of it at once (a skipped row is not final: it is read again). */
  decide(index: number, row: ValidRow, o: RowOutcome): void {
    this.outcomes[index] = o;
    if (o.status !== 'skipped') this.hooks.settled?.(row, o);
  }

  /** Back to `pending`, in file order. */
  requeue(it: SendItem): void {
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].index > it.index) i--;
    this.pending.splice(i, 0, it);
  }

  /** The run must stop: no new batch starts; the first halt is the one reported. */
  halt(e: RunHaltedError): void {
    this.halted ??= e;
    this.stopped = true;
  }

  /** The portal is unreachable: stop as at a deadline (rows not final are deferred) and tell the engine. */
  unreachable(code: string, message: string, since: number): void {
    this.stopped = true;
    this.hooks.unreachable?.(code, message, since);
  }

  /** No new batch starts (deadline): rows not final are deferred. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * One outcome per row, in order: rows never finished are skipped with the halt's code, or DEFERRED.
   * Throws SendHaltedError (carrying those outcomes) when the window was halted.
   */
  finish(rows: ValidRow[]): RowOutcome[] {
    const out = rows.map((row, i) => {
      const o = this.outcomes[i];
      if (o) return o;
      const attempts = this.pending.find((it) => it.index === i)?.attempts ?? 0;
      if (this.halted) return outcome(row, 'skipped', this.halted.code, this.halted.message, attempts);
      return outcome(row, 'skipped', DEFERRED, 'not started before the chunk deadline', attempts);
    });
    if (this.halted) throw new SendHaltedError(this.halted.code, this.halted.message, out);
    return out;
  }
}
