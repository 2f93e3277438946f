import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  CsvCutShortError,
  FileRefusedError,
  NoProgressError,
  ObjectChangedError,
  RunHaltedError,
  SendHaltedError,
} from '../../lambda/errors.ts';
import { CHUNK_FATAL_ERRORS, CHUNK_RETRIERS, FINALIZE_RETRIER, RUN_TIMEOUT_HOURS, retrierFor } from '../../infra/retryPolicy.ts';
import { DEFAULT_SEGMENT_LIMITS } from '../../lambda/aws/segment.ts';
import { CHUNK_TIMEOUT } from '../../infra/stack.ts';
import { toRetryProps } from '../../infra/workflow.ts';

describe('chunk retry policy', () => {
  it('never retries the errors the run throws when no retry can fix it, by the name each class reports', () => {
    const thrown = [
      new ConfigurationError('no webhook'),
      new RunHaltedError('OVERLOAD_LIMIT', 'halted'),
      new SendHaltedError('OVERLOAD_LIMIT', 'halted mid-window', []),
      new ObjectChangedError('leads/incoming/a.csv'),
      new NoProgressError('stuck'),
      new FileRefusedError('EMPTY_FILE', 'empty'),
      new CsvCutShortError(7, 'unclosed quote'),
    ];
    for (const err of thrown) expect(CHUNK_RETRIERS[retrierFor(err.name)!].maxAttempts, err.name).toBe(0);
    expect(CHUNK_FATAL_ERRORS).toEqual([
      'ConfigurationError',
      'RunHaltedError',
      'ObjectChangedError',
      'NoProgressError',
      'FileRefusedError',
      'CsvCutShortError',
    ]);
  });

  it('picks the first matching retrier: crash, fatal (never retried), then any other task error', () => {
    const attempts = (name: string) => {
      const i = retrierFor(name);
      return i === undefined ? undefined : CHUNK_RETRIERS[i].maxAttempts;
    };
    expect(attempts('Lambda.TooManyRequestsException')).toBe(40);
    expect(attempts('Runtime.ExitError')).toBe(2);
    expect(attempts('RunHaltedError')).toBe(0);
    expect(attempts('ConfigurationError')).toBe(0);
    expect(attempts('Error')).toBe(3);
    expect(attempts('S3ServiceException')).toBe(3);
    // States.TaskFailed does not match a state timeout; no wildcard matches the terminal errors.
    expect(retrierFor('States.Timeout')).toBeUndefined();
    expect(retrierFor('States.DataLimitExceeded')).toBeUndefined();
    expect(retrierFor('States.Runtime', [{ errors: ['States.ALL'] }])).toBeUndefined();
    expect(retrierFor('X', [{ errors: ['States.ALL'] }])).toBe(0);
  });

  it('converts to CDK retry props without adding fields the policy leaves out', () => {
    const [service, , fatal] = CHUNK_RETRIERS.map(toRetryProps);
    expect(service).toMatchObject({ maxAttempts: 40, backoffRate: 2, jitterStrategy: 'FULL' });
    expect(service.interval?.toSeconds()).toBe(5);
    expect(service.maxDelay?.toSeconds()).toBe(300);
    expect(fatal).toEqual({ errors: CHUNK_FATAL_ERRORS, maxAttempts: 0 });
    expect(toRetryProps({ errors: ['X'], maxAttempts: 1, jitter: 'NONE' }).jitterStrategy).toBe('NONE');
  });
});

describe('one execution fits its quotas even when every chunk spends all its retries', () => {
  /** Longest wait of a retrier's retries (no jitter: the upper bound), seconds. */
  const waits = (r: (typeof CHUNK_RETRIERS)[number]) => {
    let total = 0;
    for (let i = 0; i < r.maxAttempts; i++) {
      total += Math.min((r.intervalSeconds ?? 1) * (r.backoffRate ?? 2) ** i, r.maxDelaySeconds ?? Number.POSITIVE_INFINITY);
    }
    return total;
  };
  const retries = CHUNK_RETRIERS.reduce((n, r) => n + r.maxAttempts, 0);

  it('history: ≤ 25,000 events over the chunks one execution runs before it hands on', () => {
    // Per chunk: entered/exited (2), 3 per attempt, the Done? choice (2), WaitForPortal (2), Continue? (2); then
    // start, finalize and end.
    const perChunk = 2 + 3 * (1 + retries) + 2 + 2 + 2;
    const finalize = 2 + 3 * (1 + FINALIZE_RETRIER.maxAttempts) + 6;
    expect(DEFAULT_SEGMENT_LIMITS.maxChunks * perChunk + finalize + 1).toBeLessThanOrEqual(25_000);
  });

  it('time: the hand-on point plus the last chunk, all its attempts timing out and all its waits, stays under the timeout', () => {
    const chunkSeconds = CHUNK_TIMEOUT.toSeconds();
    // A Lambda service error (throttling…) answers at once; any other failed attempt may have run the full timeout.
    const running = retries - CHUNK_RETRIERS[0].maxAttempts;
    const lastChunk = (1 + running) * chunkSeconds + CHUNK_RETRIERS.reduce((s, r) => s + waits(r), 0);
    const finalize = (1 + FINALIZE_RETRIER.maxAttempts) * chunkSeconds + waits(FINALIZE_RETRIER);
    expect(DEFAULT_SEGMENT_LIMITS.maxMs / 1000 + lastChunk + finalize).toBeLessThan(RUN_TIMEOUT_HOURS * 3600);
  });
});
