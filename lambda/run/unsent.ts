import type { Checkpoint } from './state.ts';

/** The code of the rows a failed run never sent (the failure's own code is in the summary's `error`). */
export const RUN_FAILED = 'RUN_FAILED';

/**
 * The checkpoint a failed run's remaining rows are read from: halted, so every row not yet written gets its
 * one report line as `skipped` with the failure named, and nothing more is sent (a run already halted keeps
 * its reason). No waiting for the portal any more. Pure: `cp` is not changed.
 */
export function haltForFailure(cp: Checkpoint, failure: { code: string; message: string }): Checkpoint {
  const { unreachable: _u, waitUntil: _w, waitUntilIso: _i, idleChunks: _n, ...rest } = cp;
  if (rest.halted) return rest;
  const message = `the run failed before this row was sent (${failure.code}: ${failure.message}); re-run the file to import it`;
  return { ...rest, halted: { code: RUN_FAILED, message } };
}
