import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import cdkNag from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { LINK_SIGNER_ENV, LinkSigner } from '../../infra/linkSigner.ts';
import { LeadImportStack } from '../../infra/stack.ts';
import { FinalizeEnvSchema, readEnv } from '../../lambda/aws/env.ts';
import { actionsOf, cdkContext, logicalId, type Statement } from '../support/infra.ts';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** A stack holding only a bucket, a function (inline code: no bundling) and the LinkSigner. */
function small(encryption: 'kms' | 's3') {
  const app = new App({ context: cdkContext() });
  const stack = new Stack(app, 'Small');
  const key = encryption === 'kms' ? new kms.Key(stack, 'BucketKey', { enableKeyRotation: true }) : undefined;
  const bucket = new s3.Bucket(stack, 'Bucket', key ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key } : {});
  const fn = new lambda.Function(stack, 'Finalize', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {};'),
  });
  const other = new lambda.Function(stack, 'Other', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {};'),
  });
  bucket.grantRead(other);
  const signer = new LinkSigner(stack, 'LinkSigner', { bucket, signer: fn });
  const template = Template.fromStack(stack);
  return { app, stack, bucket, key, fn, other, signer, template, resources: template.toJSON().Resources as Resources };
}

/** Every statement of the policies attached to one principal (Roles, Users or Groups). */
function statements(resources: Resources, attachedTo: 'Roles' | 'Users' | 'Groups', id: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => ((r.Properties?.[attachedTo] as { Ref: string }[] | undefined) ?? []).some((p) => p.Ref === id))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? []);
}

/** The template's resources that mention the signer's secret (by logical id). */
function mentioning(resources: Resources, id: string): string[] {
  return Object.entries(resources)
    .filter(([rid, r]) => rid !== id && JSON.stringify(r).includes(`"${id}"`))
    .map(([rid, r]) => `${r.Type} ${rid}`);
}

describe('LinkSigner: an IAM user that may only read reports/ through pre-signed URLs, its key readable by finalize only', () => {
  it("the user's rights: s3:GetObject on reports/* as query-string auth, through its group; no policy on the user", () => {
    const s = small('s3');
    const bucketId = logicalId(s.bucket);
    expect(Object.values(s.resources).filter((r) => r.Type === 'AWS::IAM::User')).toHaveLength(1);
    const user = s.resources[logicalId(s.signer.user)];
    expect(user.Properties).toEqual({ Groups: [{ Ref: logicalId(s.signer.group) }] });
    expect(statements(s.resources, 'Users', logicalId(s.signer.user))).toEqual([]);
    expect(statements(s.resources, 'Groups', logicalId(s.signer.group))).toEqual([
      {
        Sid: 'SignReportLinks',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/reports/*']] },
        Condition: { StringEquals: { 's3:authType': 'REST-QUERY-STRING' } },
      },
    ]);
    s.template.hasResourceProperties('AWS::IAM::AccessKey', { UserName: { Ref: logicalId(s.signer.user) } });
  });

  it("a KMS-encrypted bucket: kms:Decrypt on the bucket's key, named exactly, and nothing else of KMS", () => {
    const s = small('kms');
    const group = statements(s.resources, 'Groups', logicalId(s.signer.group));
    expect(group.map((st) => actionsOf(st))).toEqual([['s3:GetObject'], ['kms:Decrypt']]);
    expect(group[1]).toEqual({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [logicalId(s.key!), 'Arn'] } });
  });

  it("the secret holds the key pair as JSON; finalize's role may read it and learns it in LINK_SIGNER_SECRET_ARN; its policy refuses anyone else", () => {
    const s = small('s3');
    const secretId = logicalId(s.signer.secret);
    const keyId = logicalId(s.signer.accessKey);
    expect(s.resources[secretId].Properties?.SecretString).toEqual({
      'Fn::Join': ['', ['{"accessKeyId":"', { Ref: keyId }, '","secretAccessKey":"', { 'Fn::GetAtt': [keyId, 'SecretAccessKey'] }, '"}']],
    });
    const roleId = logicalId(s.fn.role!);
    expect(statements(s.resources, 'Roles', roleId).filter((st) => JSON.stringify(st).includes(secretId))).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: secretId } },
    ]);
    // Only finalize's policy, the resource policy and finalize's environment name the secret.
    expect(mentioning(s.resources, secretId).sort()).toEqual(
      [
        `AWS::IAM::Policy ${logicalId(s.fn.role!.node.findChild('DefaultPolicy'))}`,
        `AWS::Lambda::Function ${logicalId(s.fn)}`,
        `AWS::SecretsManager::ResourcePolicy ${logicalId(s.signer.secret.node.findChild('Policy'))}`,
      ].sort(),
    );
    expect(s.template.toJSON().Resources[logicalId(s.fn)].Properties.Environment.Variables).toEqual({
      [LINK_SIGNER_ENV]: { Ref: secretId },
    });
    expect(s.template.toJSON().Resources[logicalId(s.other)].Properties.Environment).toBeUndefined();
    s.template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: secretId },
      ResourcePolicy: {
        Statement: [
          {
            Sid: 'OnlyTheSigner',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [roleId, 'Arn'] } } },
          },
        ],
      },
    });
  });

  it('finalize reads the variable the construct sets (one name on both sides)', () => {
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:signer-AbCdEf';
    expect(readEnv(FinalizeEnvSchema, { [LINK_SIGNER_ENV]: arn }).LINK_SIGNER_SECRET_ARN).toBe(arn);
  });

  it('a new serial replaces the access key (rotation by deploy)', () => {
    const app = new App({ context: cdkContext() });
    const stack = new Stack(app, 'Rotated');
    const fn = new lambda.Function(stack, 'Finalize', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {};'),
    });
    new LinkSigner(stack, 'LinkSigner', { bucket: new s3.Bucket(stack, 'Bucket'), signer: fn, serial: 2 });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::AccessKey', { Serial: 2 });
  });

  it("cdk-nag reports nothing on the signer's resources (the reports/* wildcard and SMG4 acknowledged, with reasons)", () => {
    const s = small('kms');
    const nag = new cdkNag.AwsSolutionsChecks(s.app).validateScope(s.app);
    const under = `${s.signer.node.path}/`;
    const mine = nag.violations.filter((v) => v.violatingResources.some((r) => r.constructPath?.startsWith(under)));
    // The small stack's own bucket and function do draw findings: the filter sees cdk-nag's report.
    expect(nag.violations.length).toBeGreaterThan(0);
    expect(mine.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('LinkSigner in the whole stack (as stack.ts wires it with sevenDayLinks), SSE-KMS', () => {
  let stack: LeadImportStack;
  let signer: LinkSigner;
  let resources: Resources;
  let app: App;
  beforeAll(() => {
    app = new App({ context: cdkContext() });
    // notifyEmail turns sevenDayLinks on by default (infra/config.ts).
    stack = new LeadImportStack(app, 'Test', { config: { kmsKey: true, notifyEmail: 'ops@example.com' } });
    signer = stack.linkSigner!;
    resources = Template.fromStack(stack).toJSON().Resources as Resources;
  }, 120_000);

  it("the bucket key's grants (storage.ts KeyGrants) add nothing beyond the one kms:Decrypt", () => {
    const group = statements(resources, 'Groups', logicalId(signer.group));
    expect(group.map((st) => [actionsOf(st), st.Resource])).toEqual([
      [['s3:GetObject'], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.bucket), 'Arn'] }, '/reports/*']] }],
      [['kms:Decrypt'], { 'Fn::GetAtt': [logicalId(stack.bucket.encryptionKey!), 'Arn'] }],
    ]);
  });

  it('only the finalize role may read the signer secret; the other roles get nothing of it', () => {
    const secretId = logicalId(signer.secret);
    const readers = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r).includes(`"${secretId}"`))
      .map((r) => r.Properties?.Roles);
    expect(readers).toEqual([[{ Ref: logicalId(stack.finalize.role) }]]);
    const env = (resources[logicalId(stack.finalize.fn)].Properties?.Environment as { Variables: Record<string, unknown> } | undefined)
      ?.Variables;
    expect(env?.[LINK_SIGNER_ENV]).toEqual({ Ref: secretId });
  });

  it('cdk-nag stays clean on the whole stack', () => {
    const nag = new cdkNag.AwsSolutionsChecks(app).validateScope(app);
    expect(nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});

describe('sevenDayLinks: on with notifyEmail unless set false, off without it', () => {
  const users = (config: Record<string, unknown>) => {
    const app = new App({ context: cdkContext() });
    const stack = new LeadImportStack(app, 'Links', { config });
    const env = Template.fromStack(stack).toJSON().Resources as Resources;
    const fnEnv = (env[logicalId(stack.finalize.fn)].Properties?.Environment as { Variables: Record<string, unknown> } | undefined)
      ?.Variables;
    return { users: Object.values(env).filter((r) => r.Type === 'AWS::IAM::User').length, signs: fnEnv?.[LINK_SIGNER_ENV] !== undefined };
  };
  it.each([
    [{}, { users: 0, signs: false }],
    [{ notifyEmail: 'ops@example.com' }, { users: 1, signs: true }],
    [
      { notifyEmail: 'ops@example.com', sevenDayLinks: 'false' },
      { users: 0, signs: false },
    ],
    [{ sevenDayLinks: 'true' }, { users: 1, signs: true }],
  ])(
    '%j → %j',
    (config, expected) => {
      expect(users(config)).toEqual(expected);
    },
    120_000,
  );
});
