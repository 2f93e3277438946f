import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, parseDeployConfig, readContext } from '../../infra/config.ts';
import { renderCfn } from '../../infra/nag.ts';

describe('deploy parameters', () => {
  it('defaults to the standard plan limits from lambda/config.ts and one worker', () => {
    const c = parseDeployConfig({});
    expect(c).toMatchObject({
      webhookSecretName: 'b24-lead-import/webhook',
      portalRate: 2,
      portalBurst: 50,
      operatingLimit: 480,
      operatingWindow: 600,
      memoryMb: 1024,
      workerConcurrency: 1,
      maxIdleChunks: 12,
      tracing: false,
    });
    expect(c.bucketName).toBeUndefined();
  });

  it('coerces command-line strings (-c key=value) into numbers and booleans', () => {
    const c = parseDeployConfig({ memoryMb: '2048', workerConcurrency: '2', tracing: 'true', portalRate: '1.5', logRetentionDays: '90' });
    expect(c).toMatchObject({ memoryMb: 2048, workerConcurrency: 2, tracing: true, portalRate: 1.5, logRetentionDays: 90 });
  });

  it('outageWaitHours: unset by default (the run option decides), 0–72 hours from the command line', () => {
    expect(parseDeployConfig({}).outageWaitHours).toBeUndefined();
    expect(parseDeployConfig({ outageWaitHours: '1.5' }).outageWaitHours).toBe(1.5);
    expect(() => parseDeployConfig({ outageWaitHours: '100' })).toThrow(/outageWaitHours/);
  });

  it('accepts workerConcurrency 0 (no reservation) but not a negative one', () => {
    expect(parseDeployConfig({ workerConcurrency: '0' }).workerConcurrency).toBe(0);
    expect(() => parseDeployConfig({ workerConcurrency: '-1' })).toThrow(/workerConcurrency/);
  });

  it('resolves a plan preset, with explicit rate/burst winning over it', () => {
    expect(parseDeployConfig({ plan: 'enterprise' })).toMatchObject({ portalRate: 5, portalBurst: 250 });
    expect(parseDeployConfig({ plan: 'enterprise', portalRate: '3' })).toMatchObject({ portalRate: 3, portalBurst: 250 });
  });

  it('refuses a webhook URL where the secret name belongs, without echoing it', () => {
    const url = 'https://example.bitrix24.com/rest/1/s3cr3tc0de/';
    let message = '';
    try {
      parseDeployConfig({ webhookSecretName: url });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/webhookSecretName: not a valid secret name/);
    expect(message).not.toContain('s3cr3tc0de');
  });

  it('refuses bad values with the parameter named', () => {
    expect(() => parseDeployConfig({ memoryMb: '64' })).toThrow(/memoryMb/);
    expect(() => parseDeployConfig({ logRetentionDays: '31' })).toThrow(/logRetentionDays: not a CloudWatch retention period/);
    expect(() => parseDeployConfig({ bucketName: 'Not_A_Bucket' })).toThrow(/bucketName/);
    expect(() => parseDeployConfig({ plan: 'gold' })).toThrow(/plan/);
    expect(() => parseDeployConfig({ tracing: 'yes' })).toThrow(/tracing/);
    expect(() => parseDeployConfig({ maxIdleChunks: '0' })).toThrow(/maxIdleChunks/);
    // The handlers' logger has no TRACE/FATAL: refused here rather than crashing every invocation.
    expect(() => parseDeployConfig({ logLevel: 'TRACE' })).toThrow(/logLevel/);
  });

  it('reads every parameter from context and ignores empty values', () => {
    const ctx: Record<string, string> = { memoryMb: '512', bucketName: '' };
    const raw = readContext((k) => ctx[k]);
    expect(Object.keys(raw).sort()).toEqual([...CONTEXT_KEYS].sort());
    const c = parseDeployConfig(raw);
    expect(c.memoryMb).toBe(512);
    expect(c.bucketName).toBeUndefined();
  });
});

describe('cdk-nag finding ids', () => {
  it('render resolved CloudFormation the way cdk-nag prints it', () => {
    expect(renderCfn({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket1', 'Arn'] }, '/parts/*']] })).toBe('<Bucket1.Arn>/parts/*');
    expect(renderCfn({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::b/x/*']] })).toBe('arn:<AWS::Partition>:s3:::b/x/*');
    expect(() => renderCfn({ 'Fn::Sub': 'x' })).toThrow(/cannot render/);
  });
});
