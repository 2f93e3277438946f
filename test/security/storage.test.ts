import { beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, logicalId, statementsOf, type Synth, synth } from '../support/infra.ts';

/**
 * Lead data (names, phones, e-mails) does not live on for ever: incoming/ expires, and what a run deletes or
 * replaces (parts, old reports, re-uploaded sources) is gone within days, not kept 30 more as old versions.
 * With kmsKey=true the bucket is encrypted with a customer key that rotates, and only the functions that read
 * or write objects may use it.
 */
type Rule = Record<string, unknown> & { Prefix?: string };

const rulesOf = (s: Synth): Rule[] =>
  s.template.toJSON().Resources[logicalId(s.stack.bucket)].Properties.LifecycleConfiguration.Rules as Rule[];
const ruleFor = (s: Synth, prefix: string) => rulesOf(s).find((r) => r.Prefix === prefix);

describe('retention of the default stack', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({});
  }, 240_000);

  it('incoming/ expires 30 days after upload; its replaced or deleted versions after 2', () => {
    expect(ruleFor(s, 'incoming/')).toMatchObject({
      ExpirationInDays: 30,
      NoncurrentVersionExpiration: { NoncurrentDays: 2 },
      Status: 'Enabled',
    });
  });

  it('parts/ and reports/ keep deleted or expired objects as old versions for 1 day only', () => {
    expect(ruleFor(s, 'parts/')).toMatchObject({ ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
    expect(ruleFor(s, 'reports/')).toMatchObject({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
  });

  it('every key prefix the importer writes has an expiry', () => {
    const expiring = rulesOf(s)
      .filter((r) => r.ExpirationInDays !== undefined)
      .map((r) => r.Prefix)
      .sort();
    expect(expiring).toEqual(['incoming/', 'parts/', 'reports/', 'undo/']);
  });

  it('SSE-S3 by default, public access blocked, TLS only (unchanged)', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    s.template.resourceCountIs('AWS::KMS::Key', 0);
  });
});

describe('context options', () => {
  it('incomingRetentionDays and incomingNoncurrentDays set the incoming/ rule', () => {
    const s = synth({ incomingRetentionDays: 7, incomingNoncurrentDays: 1 });
    expect(ruleFor(s, 'incoming/')).toMatchObject({ ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
  }, 240_000);
});

describe('kmsKey=true: SSE-KMS with a customer key', () => {
  let s: Synth;
  const statements = (id: 'start' | 'chunk' | 'finalize' | 'stateMachine') =>
    statementsOf(s.template, logicalId(id === 'stateMachine' ? s.stack.workflow.stateMachine.role : s.stack[id].role));
  const kmsActions = (id: 'start' | 'chunk' | 'finalize' | 'stateMachine') =>
    statements(id)
      .filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')))
      .map((st) => ({ actions: actionsOf(st).sort(), resource: st.Resource }));
  let keyArn: unknown;

  beforeAll(() => {
    s = synth({ kmsKey: true });
    const [keyId] = Object.keys(s.template.findResources('AWS::KMS::Key'));
    keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
  }, 240_000);

  it('creates one key with rotation, kept when the stack is deleted, and encrypts the bucket with it (bucket key on)', () => {
    s.template.resourceCountIs('AWS::KMS::Key', 1);
    s.template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } },
        ],
      },
    });
  });

  it('grants the key to the functions that read or write objects, and to no one else', () => {
    expect(kmsActions('chunk')).toEqual([{ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: keyArn }]);
    expect(kmsActions('finalize')).toEqual([{ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: keyArn }]);
    // start keeps the run queue (queue/*, encrypted like every object) and, for an undo, reads runs' change logs and
    // writes undo inputs (lead data: before and after values).
    expect(kmsActions('start')).toEqual([{ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: keyArn }]);
    expect(kmsActions('stateMachine')).toEqual([]);
  });

  it('passes cdk-nag with no new finding', () => {
    expect(s.nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});
