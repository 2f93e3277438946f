import { executionNameFor } from '../run/keys.ts';
import type { RunState } from '../run/state.ts';

/**
 * When an execution hands the run on to a fresh one. A standard execution stops at the state machine's
 * timeout (24 h, which no Catch sees) and at 25,000 history events (~7 per chunk, 3 more per retry); the
 * defaults leave room for the worst retries of the last chunk (test/infra/retryPolicy.test.ts checks the sums).
 */
export interface SegmentLimits {
  /** Chunks one execution runs at most. */
  maxChunks: number;
  /** Time one execution works at most before handing on, ms. */
  maxMs: number;
}

export const DEFAULT_SEGMENT_LIMITS: SegmentLimits = { maxChunks: 150, maxMs: 10 * 3600_000 };

/** The limits from the environment (CHUNKS_PER_EXECUTION, HOURS_PER_EXECUTION); bad or unset values keep the defaults. */
export function segmentLimitsFromEnv(env: Record<string, string | undefined>): SegmentLimits {
  const chunks = Number(env.CHUNKS_PER_EXECUTION);
  const hours = Number(env.HOURS_PER_EXECUTION);
  return {
    maxChunks: Number.isInteger(chunks) && chunks >= 1 ? chunks : DEFAULT_SEGMENT_LIMITS.maxChunks,
    maxMs: Number.isFinite(hours) && hours > 0 ? hours * 3600_000 : DEFAULT_SEGMENT_LIMITS.maxMs,
  };
}

/** Execution `index` of a run: the first keeps the start handler's name, then `<name>-2`, `<name>-3`… (≤ 80 characters). */
export function continuationName(runId: string, index: number): string {
  const base = executionNameFor(runId);
  if (index <= 1) return base;
  const suffix = `-${index}`;
  return `${base.slice(0, 80 - suffix.length)}${suffix}`;
}

/** The state a chunk works on: this execution's share counted from its first chunk, no hand-over pending. */
export function beginSegment(state: RunState, now: number): RunState {
  const { continueAs: _done, ...rest } = state;
  return rest.segment ? rest : { ...rest, segment: { index: 1, chunks: 0, startedAt: new Date(now).toISOString() } };
}

/** After a chunk: counts it, and past the limits names the next execution (its share starts now). */
export function endChunk(state: RunState, limits: SegmentLimits, now: number): RunState {
  const segment = state.segment ?? { index: 1, chunks: 0, startedAt: new Date(now).toISOString() };
  const counted = { ...segment, chunks: segment.chunks + 1 };
  const over = counted.chunks >= limits.maxChunks || now - Date.parse(counted.startedAt) >= limits.maxMs;
  if (state.checkpoint.done || !over) return { ...state, segment: counted };
  const index = counted.index + 1;
  return {
    ...state,
    segment: { index, chunks: 0, startedAt: new Date(now).toISOString() },
    continueAs: continuationName(state.runId, index),
  };
}
