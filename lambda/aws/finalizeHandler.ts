import type { Context } from 'aws-lambda';
import { finalizeRun } from '../report/finalize.ts';
import type { RunState, Summary } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { FinalizeEnvSchema, readEnv, type FinalizeEnv } from './env.ts';
import { type CaughtError, describeCaught } from './caught.ts';
import type { Logger } from './log.ts';
import { lazyHandler } from './lazy.ts';
import { withHeader } from './runHeader.ts';

export { type CaughtError, describeCaught } from './caught.ts';

/** Finalize's input: the last RunState, plus the caught error when the chunk loop failed. */
export type FinalizeEvent = RunState & { error?: CaughtError };

export interface FinalizeDeps {
  env: FinalizeEnv;
  store(bucket: string): ObjectStore;
  log: Logger;
}

/** Builds the finalize step around its store. */
export function createFinalizeHandler(deps: FinalizeDeps) {
  return async (event: FinalizeEvent, _context?: Context): Promise<Summary> => {
    const { error, continueAs: _c, segment: _s, ...stored } = event;
    const log = deps.log.child({ runId: stored.runId });
    const output = deps.store(deps.env.BUCKET ?? stored.source.bucket);
    // rejected.csv starts with the header kept in S3 (gone only when an earlier finalize already finished).
    const state = await withHeader(stored, output, { missingOk: true });
    const summary = await finalizeRun(state, output, error ? { error: describeCaught(error) } : {});
    log.info('run finalized', {
      rows: summary.rows,
      counts: summary.counts,
      complete: summary.complete,
      dryRun: summary.dryRun,
      report: summary.report.report,
      ...(error ? { failedChunk: describeCaught(error).code } : {}),
    });
    return summary;
  };
}

/** The Lambda entry point (Step Functions "Finalize" states: RunState [+ error] → Summary). */
export const handler = lazyHandler(
  () => readEnv(FinalizeEnvSchema),
  ({ env, store, log }) => createFinalizeHandler({ env, store, log }),
);
