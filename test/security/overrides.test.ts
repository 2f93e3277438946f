import { describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../lambda/config.ts';
import { readEnv, StartEnvSchema } from '../../lambda/aws/env.ts';
import { boundedRunOptions, manualRunOptions } from '../../lambda/aws/overrides.ts';
import { runOptionsFor } from '../../lambda/aws/startHandler.ts';

/**
 * A manual invocation of start may tighten the deployment's limits, never loosen them: a raised rate or
 * operating budget could flood the portal into an OVERLOAD_LIMIT block of every integration on it, a lifted
 * cell limit would let a 1 GB cell into memory, and a dry-run deployment must not be turned into a writer.
 */
const env = readEnv(StartEnvSchema, {
  STATE_MACHINE_ARN: 'arn:x',
  BUCKET: 'acme-imports',
  PORTAL_RATE: '2',
  PORTAL_BURST: '50',
  OPERATING_LIMIT: '480',
  OPERATING_WINDOW: '600',
});
const dryEnv = readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x', BUCKET: 'acme-imports', DRY_RUN: 'true' });

const LOOSER = {
  limits: { rate: 1000, burst: 10_000, operatingLimit: 100_000, operatingWindow: 1, concurrency: 16 },
  input: { maxBytes: 100 * 1024 ** 3, maxRows: 1e9, maxCellBytes: 1024 ** 3 },
};

describe('manual options can only tighten the deployment', () => {
  it('through the start handler: looser limits are cut back to the deployment’s (the audit reproduction)', () => {
    const o = runOptionsFor(env, { options: LOOSER });
    const deployment = parseRunOptions({});
    expect(o.limits).toEqual({ rate: 2, burst: 50, operatingLimit: 480, operatingWindow: 600, concurrency: deployment.limits.concurrency });
    expect(o.input).toEqual(deployment.input);
  });

  it('tighter values are taken, limit by limit (operatingWindow: the longer window is the tighter)', () => {
    const o = manualRunOptions(env, {
      options: {
        limits: { rate: 0.5, burst: 10, operatingLimit: 100, operatingWindow: 1200, concurrency: 1 },
        input: { maxBytes: 1000, maxRows: 10, maxCellBytes: 100 },
      },
    });
    expect(o.limits).toEqual({ rate: 0.5, burst: 10, operatingLimit: 100, operatingWindow: 1200, concurrency: 1 });
    expect(o.input).toEqual({ maxBytes: 1000, maxRows: 10, maxCellBytes: 100 });
  });

  it('a dry-run deployment stays dry whatever the payload says; a writing one may be asked for a dry run', () => {
    expect(runOptionsFor(dryEnv, { dryRun: false }).dryRun).toBe(true);
    expect(runOptionsFor(dryEnv, { options: { dryRun: false } }).dryRun).toBe(true);
    expect(runOptionsFor(env, { dryRun: true }).dryRun).toBe(true);
    expect(runOptionsFor(env, { options: { dryRun: true } }).dryRun).toBe(true);
    expect(runOptionsFor(env, {}).dryRun).toBe(false);
  });

  it('options that are no limit (mapping, multifield, sonet) still pass through, validated', () => {
    const o = runOptionsFor(env, { options: { mapping: { Phone: 'PHONE_MOBILE' }, multifield: 'replace', sonet: 'Y' } });
    expect(o).toMatchObject({ mapping: { Phone: 'PHONE_MOBILE' }, multifield: 'replace', sonet: 'Y' });
    expect(() => runOptionsFor(env, { options: { limits: { rate: -1 } } })).toThrow();
    expect(() => runOptionsFor(env, { options: [] as never })).toThrow(/options/);
  });

  it('the bucket is the deployment’s: a payload naming another is refused, naming the expected one', () => {
    expect(() => runOptionsFor(env, {}, 'someone-elses-bucket')).toThrow(/"bucket" must be this deployment's bucket "acme-imports"/);
    expect(runOptionsFor(env, {}, 'acme-imports').limits.rate).toBe(2);
    // Without BUCKET (an older stack) there is nothing to compare with; the grants still fence the bucket.
    const unset = readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:x' });
    expect(runOptionsFor(unset, {}, 'anything').dryRun).toBe(false);
  });

  it('boundedRunOptions is pure: the same deployment and request give the same result, inputs untouched', () => {
    const deployment = parseRunOptions({ limits: { rate: 5, burst: 250 } });
    const before = JSON.stringify(deployment);
    const request = parseRunOptions({ limits: { rate: 50 }, dryRun: false });
    expect(boundedRunOptions(deployment, request).limits.rate).toBe(5);
    expect(boundedRunOptions(deployment, request)).toEqual(boundedRunOptions(deployment, request));
    expect(JSON.stringify(deployment)).toBe(before);
  });
});
