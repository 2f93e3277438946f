import { ImportError } from '../errors.ts';
import { finalizeRun } from '../report/finalize.ts';
import { type ChunkProgress, type RunChunkDeps, runChunk } from './chunk.ts';
import { DRIVE_MAX_IDLE_CHUNKS, progressGuard } from './stallGuard.ts';
import type { RunState, Summary } from './state.ts';

export type DriveDeps = Omit<RunChunkDeps, 'deadline' | 'maxChunkRows'>;

export interface DriveOptions {
  /** Wall time each chunk may take before it stops taking rows (default 10 minutes, like a Lambda's budget). */
  chunkBudgetMs?: number;
  /** Records per chunk at most (tests force many chunks with it). */
  chunkRows?: number;
  /** Called with the state after every chunk (the CLI could save it; tests inspect it). */
  onChunk?: (state: RunState) => void;
  /** Idle chunks in a row before the run halts with NO_PROGRESS (default DRIVE_MAX_IDLE_CHUNKS). */
  maxIdleChunks?: number;
}

/**
 * Plays the state machine in one process: chunk until done, then finalize. The CLI runs it on FsStores; the
 * AWS handlers run the same `runChunk`, `progressGuard` and `finalizeRun` one step per Lambda. A chunk that
 * throws ends the run with its error in summary.json (the rows before it keep their outcomes); chunks that keep
 * finishing no row halt it with NO_PROGRESS (the rest is reported `skipped`).
 *
 * @example
 * const { summary } = await driveRun(state, { source, output, catalogue: standardCatalogue() });
 */
export async function driveRun(state: RunState, deps: DriveDeps, opts: DriveOptions = {}): Promise<{ state: RunState; summary: Summary }> {
  const now = deps.now ?? Date.now;
  const budget = opts.chunkBudgetMs ?? 10 * 60 * 1000;
  const maxIdle = opts.maxIdleChunks ?? DRIVE_MAX_IDLE_CHUNKS;
  try {
    while (!state.checkpoint.done) {
      const before = state;
      const after = await runChunk(state, {
        ...deps,
        deadline: now() + budget,
        ...(opts.chunkRows !== undefined ? { maxChunkRows: opts.chunkRows } : {}),
      });
      state = after; // if the guard throws, the report still counts the rows this chunk finished
      state = progressGuard(before, after, maxIdle);
      opts.onChunk?.(state);
    }
  } catch (err) {
    const summary = await finalizeRun(state, deps.output, {
      error: { code: err instanceof ImportError ? err.code : 'RUN_FAILED', message: err instanceof Error ? err.message : String(err) },
    });
    return { state, summary };
  }
  const summary = await finalizeRun(state, deps.output);
  return { state, summary };
}

export type { ChunkProgress };
// Kept here for the CLI and tests that start runs beside driving them; the start Lambda imports newRun.ts.
export { type NewRun, newRunState, runIdFor } from './newRun.ts';
export { DEFAULT_MAX_IDLE_CHUNKS, DRIVE_MAX_IDLE_CHUNKS, progressGuard } from './stallGuard.ts';
