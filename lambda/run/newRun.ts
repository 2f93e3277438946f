import { createHash } from 'node:crypto';
import type { RunOptions } from '../config.ts';
import type { ObjectInfo } from '../stores/store.ts';
import type { RunState } from './state.ts';

/** What a run is started from; the start Lambda builds it without loading the chunk engine. */
export interface NewRun {
  /** Default: runIdFor(bucket, key, versionId ?? etag). */
  runId?: string;
  source: { bucket: string } & ObjectInfo;
  reportPrefix: string;
  partsPrefix: string;
  options: RunOptions;
  /** ISO time; default now. */
  startedAt?: string;
  /** The file is refused before it is read (its own options are invalid): the run only reports why. */
  refused?: { code: string; message: string };
}

/**
 * A stable run id for one version of one object: the same upload delivered twice is the same run.
 *
 * @example runIdFor('leads-bucket', 'incoming/march.csv', '"9b2cf535f27731c974343645a3985328"') // → '3f9a0c1d2b7e4a51'
 */
export function runIdFor(bucket: string, key: string, versionOrEtag: string): string {
  return createHash('sha256').update(`${bucket}\0${key}\0${versionOrEtag}`).digest('hex').slice(0, 16);
}

/** The state a run starts from: nothing read yet, the first chunk reads the header (a refused run is done at once). */
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
      done: input.refused !== undefined,
      ...(input.refused ? { refused: input.refused } : {}),
    },
  };
}
