import { ImportError } from '../errors.ts';
import { finalizeRun } from '../report/finalize.ts';
import { type ChunkProgress, type RunChunkDeps, runChunk } from './chunk.ts';
import { DRIVE_MAX_IDLE_CHUNKS, progressGuard } from './stallGuard.ts';
import type { RunState, Summary } from './state.ts';
import { haltForFailure } from './unsent.ts';

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
  /** Waits `ms` on the run's clock (default a timer; tests with a compressed clock advance it instead). */
  sleep?: (ms: number) => Promise<void>;
  /** Told before the driver waits for an unreachable portal (epoch ms of the next try; the state says since when). */
  onWait?: (until: number, state: RunState) => void;
  /** The run failed before its first chunk (the portal never opened): its rows are reported skipped, naming this. */
  failed?: { code: string; message: string };
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Plays the state machine in one process: chunk until done, then finalize. The CLI runs it on FsStores; the
 * AWS handlers run the same `runChunk`, `progressGuard` and `finalizeRun` one step per Lambda. While the portal
 * is unreachable it sleeps until the checkpoint's `waitUntil` between chunks, as the workflow's Wait state does
 * (past the run's outage wait the next chunk halts PORTAL_UNREACHABLE). A chunk that throws ends the run with
 * its error in summary.json: the rows before it keep their outcomes and every later row is reported `skipped`
 * RUN_FAILED (as far as the file can still be read); chunks that keep finishing no row halt it with NO_PROGRESS.
 *
 * @example
 * const { summary } = await driveRun(state, { source, output, catalogue: standardCatalogue() });
 */
export async function driveRun(state: RunState, deps: DriveDeps, opts: DriveOptions = {}): Promise<{ state: RunState; summary: Summary }> {
  const run = { state };
  if (opts.failed) return failRun(run, deps, opts, opts.failed);
  try {
    await chunkLoop(run, deps, opts);
  } catch (err) {
    const error = { code: err instanceof ImportError ? err.code : 'RUN_FAILED', message: err instanceof Error ? err.message : String(err) };
    return failRun(run, deps, opts, error);
  }
  const summary = await finalizeRun(run.state, deps.output);
  return { state: run.state, summary };
}

/** Every row gets its line: the rest of the file is read without the portal and reported skipped, the failure named. */
async function failRun(
  run: { state: RunState },
  deps: DriveDeps,
  opts: DriveOptions,
  error: { code: string; message: string },
): Promise<{ state: RunState; summary: Summary }> {
  run.state = { ...run.state, checkpoint: haltForFailure(run.state.checkpoint, error) };
  const { sender: _none, ...offline } = deps;
  await chunkLoop(run, offline, opts).catch(() => undefined); // a source that cannot be read: the lines so far
  const summary = await finalizeRun(run.state, deps.output, { error });
  return { state: run.state, summary };
}

/** Chunks until done; `run.state` is the last state a chunk returned (also when a later one throws). */
async function chunkLoop(run: { state: RunState }, deps: DriveDeps, opts: DriveOptions): Promise<void> {
  const now = deps.now ?? Date.now;
  const budget = opts.chunkBudgetMs ?? 10 * 60 * 1000;
  const maxIdle = opts.maxIdleChunks ?? DRIVE_MAX_IDLE_CHUNKS;
  while (!run.state.checkpoint.done) {
    await waitForPortal(run.state, now, opts);
    const before = run.state;
    const after = await runChunk(before, {
      ...deps,
      deadline: now() + budget,
      ...(opts.chunkRows !== undefined ? { maxChunkRows: opts.chunkRows } : {}),
    });
    run.state = after; // if the guard throws, the report still counts the rows this chunk finished
    run.state = progressGuard(before, after, maxIdle);
    opts.onChunk?.(run.state);
  }
}

/** The workflow's Wait state, in process: sleeps until the checkpoint's `waitUntil` (absent or past: at once). */
async function waitForPortal(state: RunState, now: () => number, opts: DriveOptions): Promise<void> {
  const until = state.checkpoint.waitUntil;
  if (until === undefined || state.checkpoint.halted) return;
  const ms = until - now();
  if (ms <= 0) return;
  opts.onWait?.(until, state);
  await (opts.sleep ?? timer)(ms);
}

export type { ChunkProgress };
// Kept here for the CLI and tests that start runs beside driving them; the start Lambda imports newRun.ts.
export { type NewRun, newRunState, runIdFor } from './newRun.ts';
export { DEFAULT_MAX_IDLE_CHUNKS, DRIVE_MAX_IDLE_CHUNKS, progressGuard } from './stallGuard.ts';
