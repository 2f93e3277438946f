import { createHash } from 'node:crypto';
import type { RunOptions } from '../config.ts';
import { ImportError } from '../errors.ts';
import { runChunk, type ChunkDeps, type ChunkProgress } from './chunk.ts';
import { finalizeRun } from '../report/finalize.ts';
import { DRIVE_MAX_IDLE_CHUNKS, progressGuard } from './stallGuard.ts';
import type { RunState, Summary } from './state.ts';
import type { ObjectInfo } from '../stores/store.ts';

export interface NewRun {
  /** Default: runIdFor(bucket, key, versionId ?? etag). */
  runId?: string;
  source: { bucket: string } & ObjectInfo;
  reportPrefix: string;
  partsPrefix: string;
  options: RunOptions;
  /** ISO time; default now. */
  startedAt?: string;
}

/**
 * A stable run id for one version of one object: the same upload delivered twice is the same run.
 *
 * @example runIdFor('leads-bucket', 'incoming/march.csv', '"9b2cf535f27731c974343645a3985328"') // → '3f9a0c1d2b7e4a51'
 */
export function runIdFor(bucket: string, key: string, versionOrEtag: string): string {
  return createHash('sha256').update(`${bucket}\0${key}\0${versionOrEtag}`).digest('hex').slice(0, 16);
}

/** The state a run starts from: nothing read yet, the first chunk reads the header. */
export function newRunState(input: NewRun): RunState {
  const { source } = input;
  return {
    runId: input.runId ?? runIdFor(source.bucket, source.key, source.versionId ?? source.etag ?? ''),
    source,
    reportPrefix: input.reportPrefix,
    partsPrefix: input.partsPrefix,
    options: input.options,
    startedAt: input.startedAt ?? new Date().toISOString(),
    checkpoint: {
      offset: 0,
      line: 1,
      part: 0,
      rows: 0,
      counts: {},
      errorCodes: {},
      warnings: 0,
      stats: { requests: 0, retries: 0, throttledMs: 0, limitErrors: {} },
      activeMs: 0,
      done: false,
    },
  };
}

export type DriveDeps = Omit<ChunkDeps, 'deadline' | 'maxChunkRows'>;

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
export { DEFAULT_MAX_IDLE_CHUNKS, DRIVE_MAX_IDLE_CHUNKS, progressGuard } from './stallGuard.ts';
