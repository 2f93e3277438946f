import { parseRunOptions, type RunOptions } from '../config.ts';
import { envOptionDefaults, type StartEnv } from './env.ts';

/** What a manual invocation of start may ask for (the payload's `dryRun` and `options`). */
export interface ManualRequest {
  dryRun?: boolean;
  options?: unknown;
}

/**
 * The run options of a manual start: the request may only tighten what the deployment set. Whoever may invoke
 * start must not be able to raise rate, burst or the operating budget (a flood ends in an OVERLOAD_LIMIT block
 * of the whole portal), lift the input limits (a 1 GB cell in memory) or make a dry-run deployment write.
 * Every limit is the tighter of the two: the smaller number, except operatingWindow, where the longer window
 * spreads the same budget thinner, and the outage wait (a manual run may give up sooner, not later). Options that are no limit (mapping, multifield, sonet…) are the request's.
 * Pure: neither argument is changed.
 *
 * @example boundedRunOptions(parseRunOptions({ limits: { rate: 2 } }), parseRunOptions({ limits: { rate: 50 } })).limits.rate // → 2
 */
export function boundedRunOptions(deployment: RunOptions, request: RunOptions): RunOptions {
  const d = deployment.limits;
  const r = request.limits;
  return {
    ...request,
    dryRun: deployment.dryRun || request.dryRun,
    // A longer wait would hold the run (and the queue behind it) past what the operator chose.
    outageWaitMs: Math.min(deployment.outageWaitMs, request.outageWaitMs),
    limits: {
      rate: Math.min(d.rate, r.rate),
      burst: Math.min(d.burst, r.burst),
      operatingLimit: Math.min(d.operatingLimit, r.operatingLimit),
      operatingWindow: Math.max(d.operatingWindow, r.operatingWindow),
      concurrency: Math.min(d.concurrency, r.concurrency),
    },
    input: {
      maxBytes: Math.min(deployment.input.maxBytes, request.input.maxBytes),
      maxRows: Math.min(deployment.input.maxRows, request.input.maxRows),
      maxCellBytes: Math.min(deployment.input.maxCellBytes, request.input.maxCellBytes),
    },
  };
}

/**
 * A manual payload's bucket must be the deployment's (`BUCKET`): the functions' grants cover that bucket only,
 * so another would fail later with AccessDenied, or worse, run against data the operator never meant to
 * import; this says why at once. A deployment that sets no `BUCKET` (an older stack, the local harness without
 * one) has nothing to compare with: IAM is then the only fence.
 */
export function checkManualBucket(env: Pick<StartEnv, 'BUCKET'>, bucket: string): void {
  if (env.BUCKET !== undefined && bucket !== env.BUCKET) {
    throw new Error(`start: "bucket" must be this deployment's bucket "${env.BUCKET}" (got "${bucket}")`);
  }
}

/**
 * The deployment's options (env defaults), then the request's `options` (limits and input merged key by key),
 * then its `dryRun`; validated, then bounded by the deployment. `bucket`, when given, is checked first.
 */
export function manualRunOptions(env: StartEnv, manual: ManualRequest = {}, bucket?: string): RunOptions {
  if (bucket !== undefined) checkManualBucket(env, bucket);
  const base = envOptionDefaults(env) as Record<string, unknown>;
  const given = (manual.options ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new Error('start: "options" must be an object');
  const deployment = parseRunOptions(base);
  const request = parseRunOptions({
    ...base,
    ...given,
    limits: { ...deployment.limits, ...(given.limits as object | undefined) },
    input: { ...deployment.input, ...(given.input as object | undefined) },
    ...(manual.dryRun !== undefined ? { dryRun: manual.dryRun } : {}),
  });
  return boundedRunOptions(deployment, request);
}
