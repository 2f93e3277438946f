/** The no-progress guard shared by the in-process driver and the chunk Lambda (pure: no I/O). */
import { NoProgressError } from '../errors.ts';
import type { RunState } from './state.ts';

/**
 * Chunks in a row that may finish no row before the run is halted with NO_PROGRESS (the deployed worker's
 * default, env MAX_IDLE_CHUNKS): 12 Lambda chunks of 13 minutes ≈ 2.6 h, far past an operating-time block
 * (up to 10 minutes), so only a portal that keeps refusing work stops the run.
 */
export const DEFAULT_MAX_IDLE_CHUNKS = 12;

/** The in-process driver's limit: its chunks are 10 minutes each, so 3 idle ones already outlast any block. */
export const DRIVE_MAX_IDLE_CHUNKS = 3;

/**
 * The no-progress guard, run after every chunk (driveRun in run.ts, the chunk Lambda in AWS, where Step Functions
 * would otherwise loop until its 24-hour timeout). A chunk "moved" when it finished rows (the offset advanced),
 * read the header, or finished the file. Idle chunks in a row are counted in `checkpoint.idleChunks`; at
 * `maxIdle` the run is halted with NO_PROGRESS, so the next chunks report the remaining rows `skipped` without
 * sending (as for any halt) and the run finalizes. Throws NoProgressError if a halted run still does not move
 * (cannot happen with the engine's halt handling: it is the backstop against a loop).
 *
 * @example
 * const next = progressGuard(state, await runChunk(state, deps), env.MAX_IDLE_CHUNKS);
 */
export function progressGuard(prev: RunState, next: RunState, maxIdle: number = DEFAULT_MAX_IDLE_CHUNKS): RunState {
  const before = prev.checkpoint;
  const after = next.checkpoint;
  // A chunk that waits for an unreachable portal is not stalled: the outage wait bounds it (chunk.ts, outage.ts).
  if (after.done || after.offset !== before.offset || before.header === undefined || after.unreachable) {
    if (after.idleChunks === undefined) return next;
    const { idleChunks: _reset, ...rest } = after;
    return { ...next, checkpoint: rest };
  }
  const idle = (before.idleChunks ?? 0) + 1;
  if (idle < maxIdle) return { ...next, checkpoint: { ...after, idleChunks: idle } };
  if (after.halted) {
    throw new NoProgressError(
      `the run was halted (${after.halted.code}) and still made no progress in ${idle} chunks (at line ${after.line})`,
    );
  }
  const halted = {
    code: 'NO_PROGRESS',
    message: `no row could be finished in ${idle} chunks in a row (at line ${after.line}): the portal deferred every row (e.g. its operating-time block outlasted each chunk); the rest of the file is skipped`,
  };
  return { ...next, checkpoint: { ...after, idleChunks: idle, halted } };
}
