import { retrierFor } from '../../../infra/retryPolicy.ts';
import type { Catcher, Retrier } from './types.ts';

/** ASL's defaults for a retrier's fields. */
const DEFAULTS = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };

/**
 * The first retrier or catcher whose ErrorEquals matches the error, by the one matching rule of
 * infra/retryPolicy.ts (States.ALL / States.TaskFailed wildcards, terminal errors only by name).
 */
export function firstMatch(errorName: string, rules: readonly (Retrier | Catcher)[] | undefined): number | undefined {
  if (!rules?.length) return undefined;
  return retrierFor(
    errorName,
    rules.map((r) => ({ errors: r.ErrorEquals })),
  );
}

export const maxAttemptsOf = (r: Retrier): number => r.MaxAttempts ?? DEFAULTS.MaxAttempts;

/**
 * The wait before retry number `attempt` (0 = the first retry), ms: IntervalSeconds × BackoffRate^attempt, at most
 * MaxDelaySeconds; FULL jitter draws it uniformly below that.
 */
export function retryDelayMs(r: Retrier, attempt: number, random: () => number): number {
  const base = (r.IntervalSeconds ?? DEFAULTS.IntervalSeconds) * (r.BackoffRate ?? DEFAULTS.BackoffRate) ** attempt;
  const capped = r.MaxDelaySeconds !== undefined ? Math.min(base, r.MaxDelaySeconds) : base;
  const seconds = r.JitterStrategy === 'FULL' ? random() * capped : capped;
  return Math.round(seconds * 1000);
}
