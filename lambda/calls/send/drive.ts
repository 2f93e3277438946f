import pLimit from 'p-limit';
import type { Reservation } from '../limits/throttle.ts';
import { MAX_BATCH, type SendItem } from './item.ts';
import { nextBatch } from './nextBatch.ts';
import type { SendWindow } from './window.ts';

export interface DriveTasks {
  /** Most tasks (batches, re-plans) in flight. */
  concurrency: number;
  /** Local clock, ms. */
  now: () => number;
  /**
   * Most rows the next batch may carry (what the portal's budgets fit: a window ends with a smaller batch
   * instead of a full one held back); default MAX_BATCH.
   */
  room?(): number;
  /** Holds the picked batch's place in the budgets at once, before batches picked after it are sized. */
  reserve?(items: SendItem[]): Reservation;
  /** Sends one batch and settles its rows (final, or back to pending); `hold` is reserve()'s. */
  send(items: SendItem[], hold?: Reservation): Promise<void>;
  /** Plans rows again whose earlier same-lead rows did not apply. */
  replan(items: SendItem[]): Promise<void>;
}

/**
 * Runs the window to the end: starts batches and re-plans while there is room and rows can go, else waits for
 * a task to finish or the earliest backoff to end. Stops starting at the deadline or a halt; tasks in flight
 * always finish.
 */
export async function drive(w: SendWindow, t: DriveTasks): Promise<void> {
  const limit = pLimit(t.concurrency);
  const running = new Set<Promise<void>>();
  const inflightIds = new Set<number>();
  let wake: () => void = () => {};
  const launch = (items: SendItem[], task: () => Promise<void>) => {
    for (const it of items) inflightIds.add(it.row.id);
    const p: Promise<void> = limit(task).finally(() => {
      for (const it of items) inflightIds.delete(it.row.id);
      running.delete(p);
      wake();
    });
    running.add(p);
  };
  for (;;) {
    const now = t.now();
    if (now >= w.deadline) w.stop();
    if (w.isStopped || (w.pending.length === 0 && running.size === 0)) break;
    const free = running.size < t.concurrency;
    const { batch, stale } = free ? nextBatch(w, inflightIds, now, t.room?.() ?? MAX_BATCH) : { batch: [], stale: [] };
    if (stale.length) launch(stale, () => t.replan(stale));
    if (batch.length) {
      const hold = t.reserve?.(batch);
      launch(batch, () => t.send(batch, hold));
    }
    if (stale.length || batch.length) continue;
    if (w.pending.length === 0 && running.size === 0) break;
    // Nothing can start now: wait for a task to finish or the earliest backoff to end.
    const soonest = Math.min(...w.pending.map((it) => it.notBefore).filter((at) => at > now), Infinity);
    await new Promise<void>((resolve) => {
      const timer = Number.isFinite(soonest) ? setTimeout(resolve, Math.max(1, soonest - now)) : undefined;
      wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  }
  await Promise.all(running);
}
