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
import { CHUNK_FATAL_ERRORS, CHUNK_RETRIERS, retrierFor } from '../../infra/retryPolicy.ts';
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
    expect(attempts('Lambda.TooManyRequestsException')).toBe(500);
    expect(attempts('Runtime.ExitError')).toBe(2);
    expect(attempts('RunHaltedError')).toBe(0);
    expect(attempts('ConfigurationError')).toBe(0);
    expect(attempts('Error')).toBe(3);
    expect(attempts('S3ServiceException')).toBe(3);
    // States.TaskFailed does not match a state timeout.
    expect(retrierFor('States.Timeout')).toBeUndefined();
    expect(retrierFor('X', [{ errors: ['States.ALL'] }])).toBe(0);
  });

  it('converts to CDK retry props without adding fields the policy leaves out', () => {
    const [service, , fatal] = CHUNK_RETRIERS.map(toRetryProps);
    expect(service).toMatchObject({ maxAttempts: 500, backoffRate: 2, jitterStrategy: 'FULL' });
    expect(service.interval?.toSeconds()).toBe(5);
    expect(service.maxDelay?.toSeconds()).toBe(300);
    expect(fatal).toEqual({ errors: CHUNK_FATAL_ERRORS, maxAttempts: 0 });
    expect(toRetryProps({ errors: ['X'], maxAttempts: 1, jitter: 'NONE' }).jitterStrategy).toBe('NONE');
  });
});
