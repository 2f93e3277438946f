import { createHash } from 'node:crypto';
import type { RunOptions } from './config.ts';
import { NoProgressError } from './errors.ts';
import { runChunk, type ChunkDeps, type ChunkProgress } from './engine.ts';
import { finalizeRun } from './finalize.ts';
import type { RunState, Summary } from './state.ts';
import type { ObjectInfo } from './store.ts';

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
 * Chunks in a row that may finish no row before the run is halted with NO_PROGRESS (the deployed worker's
 * default, env MAX_IDLE_CHUNKS): 12 Lambda chunks of 13 minutes ≈ 2.6 h, far past an operating-time block
 * (up to 10 minutes), so only a portal that keeps refusing work stops the run.
 */
export const DEFAULT_MAX_IDLE_CHUNKS = 12;

/** The in-process driver's limit: its chunks are 10 minutes each, so 3 idle ones already outlast any block. */
export const DRIVE_MAX_IDLE_CHUNKS = 3;

/**
 * The no-progress guard, run after every chunk (driveRun here, the chunk Lambda in AWS, where Step Functions
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
  if (after.done || after.offset !== before.offset || before.header === undefined) {
    if (after.idleChunks === undefined) return next;
    const { idleChunks: _reset, ...rest } = after;
    return { ...next, checkpoint: rest };
  }
  const idle = (before.idleChunks ?? 0) + 1;
  if (idle < maxIdle) return { ...next, checkpoint: { ...after, idleChunks: idle } };
  if (after.halted) {
    throw new NoProgressError(`the run was halted (${after.halted.code}) and still made no progress in ${idle} chunks (at line ${after.line})`);
  }
  const halted = {
    code: 'NO_PROGRESS',
    message: `no row could be finished in ${idle} chunks in a row (at line ${after.line}): the portal deferred every row (e.g. its operating-time block outlasted each chunk); the rest of the file is skipped`,
  };
  return { ...next, checkpoint: { ...after, idleChunks: idle, halted } };
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
export async function driveRun(
  state: RunState,
  deps: DriveDeps,
  opts: DriveOptions = {},
): Promise<{ state: RunState; summary: Summary }> {
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
      error: { code: (err as { code?: string }).code ?? 'RUN_FAILED', message: (err as Error).message ?? String(err) },
    });
    return { state, summary };
  }
  const summary = await finalizeRun(state, deps.output);
  return { state, summary };
}

export type { ChunkProgress };
