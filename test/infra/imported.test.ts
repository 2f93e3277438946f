import { beforeAll, describe, expect, it } from 'vitest';
import { logicalId, type Synth, synth } from '../support/infra.ts';

/** The variant a team with an existing bucket, an Enterprise portal, tracing and an ops topic deploys. */
let s: Synth;
beforeAll(() => {
  s = synth({
    bucketName: 'acme-crm-imports',
    plan: 'enterprise',
    memoryMb: 1536,
    workerConcurrency: 2,
    maxIdleChunks: 6,
    tracing: true,
    alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:ops-alerts',
  });
}, 120_000);

describe('with an existing bucket and parameters', () => {
  it('creates no bucket and adds the notification to the imported one', () => {
    s.template.resourceCountIs('AWS::S3::Bucket', 0);
    const [notification] = Object.values(s.template.findResources('Custom::S3BucketNotifications'));
    expect(notification.Properties.BucketName).toBe('acme-crm-imports');
    // Unmanaged: notifications already on the bucket are kept.
    expect(notification.Properties.Managed).toBe(false);
    const config = notification.Properties.NotificationConfiguration.LambdaFunctionConfigurations[0];
    // Prefix only: S3's suffix filter is case-sensitive, the handler checks .csv in any case.
    expect(config.Filter.Key.FilterRules).toEqual([{ Name: 'prefix', Value: 'incoming/' }]);
  });

  it('scopes object access to prefixes of the imported bucket', () => {
    const json = s.json;
    expect(json).toContain(':s3:::acme-crm-imports/incoming/*');
    expect(json).toContain(':s3:::acme-crm-imports/parts/*');
    expect(json).toContain(':s3:::acme-crm-imports/reports/*');
    expect(json).not.toContain(':s3:::acme-crm-imports/*"');
  });

  it('passes the plan limits, memory and concurrency to the worker', () => {
    const chunk = s.template.toJSON().Resources[logicalId(s.stack.chunk.fn)].Properties;
    expect(chunk.Environment.Variables).toMatchObject({
      PORTAL_RATE: '5',
      PORTAL_BURST: '250',
      MAX_IDLE_CHUNKS: '6',
      BUCKET: 'acme-crm-imports',
    });
    expect(chunk.MemorySize).toBe(1536);
    expect(chunk.ReservedConcurrentExecutions).toBe(2);
    expect(chunk.TracingConfig).toEqual({ Mode: 'Active' });
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
  });

  it('notifies the ops topic from every alarm', () => {
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4); // failed and timed-out runs, start's dead letters, the failed-row share
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-central-1:123456789012:ops-alerts']);
  });

  it('still passes cdk-nag with no unacknowledged findings', () => {
    expect(s.nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});
