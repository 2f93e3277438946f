import * as iam from 'aws-cdk-lib/aws-iam';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeployConfigInput } from '../../infra/config.ts';
import { LeadImportStack } from '../../infra/stack.ts';
import { actionsOf, cdkContext, logicalId, type Statement, type Synth, synth } from '../support/infra.ts';

/**
 * The IAM policy pinned by the template, not by cdk-nag: cdk-nag acknowledges `AwsSolutions-IAM5[Resource::*]`
 * per role, whatever the actions, so a new `secretsmanager:GetSecretValue` on `*` would pass it. Here every
 * statement on `*` has a fixed allow-list of actions per role, only the worker may read the secret, nothing
 * may write or delete a source, and the state machine's role reaches no object and no secret.
 */

type RoleName = 'start' | 'chunk' | 'finalize' | 'stateMachine';

interface Granted {
  roles: string[];
  statement: Statement;
}

/** Every statement of every IAM policy in the template, with the roles it is attached to. */
function grants(template: Template): Granted[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => {
    const roles = (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    return (p.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({ roles, statement }));
  });
}

const resources = (st: Statement): unknown[] => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]);

/** Per role id: the sorted actions of its Allow statements whose resource is `*`. */
function wildcardResourceActions(template: Template): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { roles, statement } of grants(template)) {
    if (statement.Effect !== 'Allow' || !resources(statement).includes('*')) continue;
    for (const role of roles) out[role] = [...(out[role] ?? []), ...actionsOf(statement)].sort();
  }
  return out;
}

const LOG_DELIVERY = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
];
const XRAY_PUT = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const XRAY_SAMPLING = ['xray:GetSamplingRules', 'xray:GetSamplingTargets'];

/** The fixed allow-list: which actions each role may have on `*` (nothing else has any). */
function allowList(tracing: boolean): Record<RoleName, string[]> {
  return {
    start: tracing ? XRAY_PUT : [],
    chunk: tracing ? XRAY_PUT : [],
    finalize: tracing ? XRAY_PUT : [],
    stateMachine: [...LOG_DELIVERY, ...(tracing ? [...XRAY_SAMPLING, ...XRAY_PUT] : [])].sort(),
  };
}

function roleIds(stack: LeadImportStack): Record<RoleName, string> {
  return {
    start: logicalId(stack.start.role),
    chunk: logicalId(stack.chunk.role),
    finalize: logicalId(stack.finalize.role),
    stateMachine: logicalId(stack.workflow.stateMachine.role),
  };
}

/** What each role has on `*` beyond its allow-list, by role name ('other' for a role not listed). */
function beyondAllowList(stack: LeadImportStack, template: Template, tracing: boolean): Record<string, string[]> {
  const ids = roleIds(stack);
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name as RoleName]));
  const allowed = allowList(tracing);
  const extra: Record<string, string[]> = {};
  for (const [id, actions] of Object.entries(wildcardResourceActions(template))) {
    const name = names[id];
    const more = actions.filter((a) => !(name ? allowed[name] : []).includes(a));
    if (more.length > 0) extra[name ?? id] = more;
  }
  return extra;
}

/** A resource (as CloudFormation) that covers objects under incoming/: `*`, the bucket's `/*` or `/incoming/*`. */
function coversIncoming(resource: unknown): boolean {
  if (resource === '*') return true;
  const text = JSON.stringify(resource);
  return /\/incoming\/\*"|"\/\*"|"arn:[^"]*:s3:::\*/.test(text);
}

const S3_READ = new Set(['s3:GetObject', 's3:GetObjectVersion']);

const CONFIGS: Array<[string, DeployConfigInput]> = [
  ['default', {}],
  ['tracing on', { tracing: true }],
  ['customer KMS key', { kmsKey: true }],
];

describe.each(CONFIGS)('IAM of the %s stack', (_name, config) => {
  let s: Synth;
  const tracing = config.tracing === true;
  beforeAll(() => {
    s = synth(config);
  }, 240_000);

  it('every statement on `*` is on its role’s fixed allow-list of actions', () => {
    const ids = roleIds(s.stack);
    const actual = wildcardResourceActions(s.template);
    const expected = allowList(tracing);
    for (const name of Object.keys(ids) as RoleName[]) expect([name, actual[ids[name]] ?? []]).toEqual([name, expected[name]]);
    expect(beyondAllowList(s.stack, s.template, tracing)).toEqual({});
  });

  it('uses no wildcard action, Allow only, and no NotAction / NotResource', () => {
    for (const { statement } of grants(s.template)) {
      expect(actionsOf(statement).filter((a) => a.includes('*'))).toEqual([]);
      expect(statement.Effect).toBe('Allow');
      expect(Object.keys(statement)).not.toContain('NotAction');
      expect(Object.keys(statement)).not.toContain('NotResource');
    }
  });

  it('only the chunk worker may read the webhook secret (by action and by resource)', () => {
    const readers = grants(s.template).filter(
      ({ statement }) =>
        actionsOf(statement).some((a) => a.startsWith('secretsmanager:')) ||
        JSON.stringify(statement.Resource).includes(':secretsmanager:'),
    );
    expect(readers.length).toBeGreaterThan(0);
    for (const r of readers) expect(r.roles).toEqual([logicalId(s.stack.chunk.role)]);
  });

  it('nothing may write or delete under incoming/ (so no run can trigger another: no S3 recursion)', () => {
    const writers = grants(s.template).filter(
      ({ statement }) =>
        resources(statement).some(coversIncoming) && actionsOf(statement).some((a) => a.startsWith('s3:') && !S3_READ.has(a)),
    );
    expect(writers.map((w) => [w.roles, actionsOf(w.statement)])).toEqual([]);
  });

  it('the state machine role has no S3, secret or KMS access: it invokes the functions, delivers logs, may start itself', () => {
    const id = logicalId(s.stack.workflow.stateMachine.role);
    const mine = grants(s.template).filter((g) => g.roles.includes(id));
    const actions = mine.flatMap((g) => actionsOf(g.statement));
    expect(actions.filter((a) => /^(s3|secretsmanager|kms):/.test(a))).toEqual([]);
    expect(JSON.stringify(mine)).not.toMatch(/StorageBucket|:secretsmanager:/);
    // Beyond logs and X-Ray: invoking the functions, and (a run continued as a new execution) starting itself.
    const machine = { Ref: logicalId(s.stack.workflow.stateMachine) };
    for (const { statement } of mine) {
      const other = actionsOf(statement).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'));
      for (const a of other) expect(['lambda:InvokeFunction', 'states:StartExecution']).toContain(a);
      if (other.includes('states:StartExecution')) expect(resources(statement)).toEqual([machine]);
    }
    expect(actions).toContain('lambda:InvokeFunction');
  });

  it('no output names the secret or carries a webhook', () => {
    const outputs = JSON.stringify(s.template.toJSON().Outputs ?? {});
    expect(outputs).not.toMatch(/secret|webhook|\/rest\//i);
  });
});

/** A resource as a key pattern of the import bucket (`undo/*`, `<bucket>` for the bucket itself), or its JSON. */
function keyPattern(resource: unknown, bucketId: string): string {
  const arn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
  if (JSON.stringify(resource) === JSON.stringify(arn)) return '<bucket>';
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join && join[0] === '' && join[1].length === 2 && JSON.stringify(join[1][0]) === JSON.stringify(arn)) {
    return String(join[1][1]).replace(/^\//, '');
  }
  return JSON.stringify(resource);
}

/** A role's S3 statements as `Sid: actions on key patterns [if s3:prefix …]`. */
function s3Grants(s: Synth, role: 'start' | 'chunk' | 'finalize'): string[] {
  const bucketId = logicalId(s.stack.bucket);
  const id = logicalId(s.stack[role].role);
  return grants(s.template)
    .filter((g) => g.roles.includes(id) && actionsOf(g.statement).some((a) => a.startsWith('s3:')))
    .map(({ statement: st }) => {
      const on = resources(st).map((r) => keyPattern(r, bucketId));
      const prefix = (st.Condition?.StringLike as { 's3:prefix'?: string[] } | undefined)?.['s3:prefix'];
      return `${(st as { Sid?: string }).Sid}: ${actionsOf(st).join(' ')} on ${on.join(' ')}${prefix ? ` if s3:prefix ${prefix.join(' ')}` : ''}`;
    });
}

describe('S3 object grants, exactly, per role (an undo included)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({});
  }, 240_000);

  it("start: the run queue, heads of sources, and for an undo the runs' change logs and summaries and undo/", () => {
    expect(s3Grants(s, 'start')).toEqual([
      'RunQueue: s3:DeleteObject s3:GetObject s3:PutObject on queue/*',
      'ListQueue: s3:ListBucket on <bucket> if s3:prefix queue/*',
      'HeadSources: s3:GetObject s3:GetObjectVersion on incoming/*',
      'ReadRunLogs: s3:GetObject on reports/*/changes.jsonl reports/*/summary.json',
      'WriteUndoInputs: s3:AbortMultipartUpload s3:GetObject s3:PutObject on undo/*',
    ]);
  });

  it('chunk: reads sources and undo inputs (at their pinned version), writes parts', () => {
    expect(s3Grants(s, 'chunk')).toEqual([
      'ReadSources: s3:GetObject s3:GetObjectVersion on incoming/*',
      'WriteParts: s3:AbortMultipartUpload s3:GetObject s3:PutObject on parts/*',
      'ReadUndoInputs: s3:GetObject s3:GetObjectVersion on undo/*',
    ]);
  });

  it('finalize: consumes parts, writes reports (unchanged by undo)', () => {
    expect(s3Grants(s, 'finalize')).toEqual([
      'ListParts: s3:ListBucket on <bucket> if s3:prefix parts/*',
      'ConsumeParts: s3:DeleteObject s3:GetObject on parts/*',
      'WriteReports: s3:AbortMultipartUpload s3:GetObject s3:PutObject on reports/*',
    ]);
  });

  it("an undo's input starts no run by itself: the bucket notifies start for incoming/ only", () => {
    const [notification] = Object.values(s.template.findResources('Custom::S3BucketNotifications'));
    const configs = notification.Properties.NotificationConfiguration.LambdaFunctionConfigurations;
    expect(configs.map((c: { Filter: { Key: { FilterRules: unknown } } }) => c.Filter.Key.FilterRules)).toEqual([
      [{ Name: 'prefix', Value: 'incoming/' }],
    ]);
  });

  it('undo/ expires like incoming/ (context incomingRetentionDays, incomingNoncurrentDays)', () => {
    const rule = (t: Synth) =>
      (
        t.template.toJSON().Resources[logicalId(t.stack.bucket)].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>
      ).find((r) => r.Prefix === 'undo/');
    expect(rule(s)).toMatchObject({ ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 2 }, Status: 'Enabled' });
    const custom = synth({ incomingRetentionDays: 7, incomingNoncurrentDays: 1 });
    expect(rule(custom)).toMatchObject({ ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
  }, 240_000);

  it('cdk-nag stays clean with the undo grants', () => {
    expect(s.nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});

describe('the guard catches a new `*` statement cdk-nag would let through', () => {
  /** The default stack with `actions` on `*` added to the state machine's role, as the audit did. */
  function tampered(actions: string[]): { app: App; stack: LeadImportStack } {
    const app = new App({ context: cdkContext() });
    const stack = new LeadImportStack(app, 'Tampered');
    stack.workflow.stateMachine.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: ['*'] }));
    return { app, stack };
  }
  const SNEAKY = ['s3:GetObject', 'secretsmanager:GetSecretValue'];

  it('synthesis fails, naming the role and the actions (nag.ts keys the acknowledgment by action)', () => {
    const { stack } = tampered(SNEAKY);
    expect(() => Template.fromStack(stack)).toThrow(/secretsmanager:GetSecretValue/);
  }, 240_000);

  it('and the template check names them too, for any role', () => {
    const { stack } = tampered(SNEAKY);
    // Build the template past the synth-time guard, to show the test's own check is independent of it.
    const template = Template.fromJSON(stack.resolve((stack as unknown as { _toCloudFormation(): unknown })._toCloudFormation()) as never);
    expect(beyondAllowList(stack, template, false)).toEqual({ stateMachine: SNEAKY });
  }, 240_000);
});
