import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../infra/config.ts';
import { DIMENSION, METRIC } from '../../lambda/aws/metricNames.ts';
import { EVENT_SOURCE } from '../../lambda/report/notice.ts';
import { STATUSES } from '../../lambda/report/lines.ts';
import type { IConstruct } from 'constructs';
import { NOTIFY_TOPIC_ENV } from '../../infra/notify.ts';
import { logicalId, statementsOf, type Synth, synth } from '../support/infra.ts';

/** A function's environment variables as synthesised. */
function envOf(s: Synth, fn: IConstruct): Record<string, unknown> {
  return s.template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
}

/** Every sns:* action any role's policy allows, with the role. */
function snsActions(s: Synth): { role: string; action: string }[] {
  const found: { role: string; action: string }[] = [];
  for (const policy of Object.values(s.template.findResources('AWS::IAM::Policy'))) {
    for (const st of policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]) {
      for (const action of [st.Action].flat().filter((a) => a.startsWith('sns:'))) {
        for (const role of policy.Properties.Roles as { Ref: string }[]) found.push({ role: role.Ref, action });
      }
    }
  }
  return found;
}

/** The dashboard body with its tokens as CloudFormation wrote them (a Fn::Join of strings and refs). */
function dashboardBody(s: Synth): string {
  const [dash] = Object.values(s.template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dash.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

describe('operations: metrics namespace, dashboard, failed-rows alarm (default stack)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({});
  }, 120_000);

  it('the chunk and finalize functions get the stack name as their metrics namespace', () => {
    for (const id of ['chunk', 'finalize'] as const) {
      const vars = s.template.toJSON().Resources[logicalId(s.stack[id].fn)].Properties.Environment.Variables;
      expect(vars.POWERTOOLS_METRICS_NAMESPACE).toBe(s.stack.stackName);
    }
  });

  it('the dashboard shows execution counts next to rows by status, limit errors, throttle waits, requests, rows/s, the alarm', () => {
    const body = dashboardBody(s);
    for (const m of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      expect(body).toContain(`"${m}"`);
    }
    for (const status of STATUSES) expect(body).toContain(`"${DIMENSION.status}","${status}"`);
    for (const m of [METRIC.rows, METRIC.throttleWait, METRIC.requests, METRIC.rowsPerSecond]) expect(body).toContain(`"${m}"`);
    expect(body).toContain(`MetricName=\\"${METRIC.limitErrors}\\"`);
    expect(body).toContain(
      `["${s.stack.stackName}","${METRIC.rows}","${DIMENSION.status}","updated","${DIMENSION.service}","b24-lead-import"`,
    );
    expect(body).toContain(`{${s.stack.stackName},${DIMENSION.service},${DIMENSION.code}}`);
    expect(body).toContain(`{"Fn::GetAtt":["${logicalId(s.stack.alarms.failedRowShare)}","Arn"]}`);
  });

  it('alarms when a run’s failed rows pass 5 % by default (FailedRowShare, the worst run of 5 minutes)', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.failedRowShare,
      Namespace: s.stack.stackName,
      Dimensions: [{ Name: DIMENSION.service, Value: 'b24-lead-import' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('no mail without notifyEmail: no topic, no rule on the run event, finalize neither learns a topic nor may publish', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
    const rules = Object.values(s.template.findResources('AWS::Events::Rule'));
    expect(rules.filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes(EVENT_SOURCE))).toEqual([]);
    expect(envOf(s, s.stack.finalize.fn)).not.toHaveProperty(NOTIFY_TOPIC_ENV);
    expect(snsActions(s)).toEqual([]);
  });

  it('cdk-nag stays clean', () => {
    expect(s.nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});

describe('operations with notifyEmail and failedRowsAlarmPercent', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({ notifyEmail: 'ops@example.com', failedRowsAlarmPercent: '12.5' as never });
  }, 120_000);

  it('an encrypted, TLS-only topic with the e-mail subscription', () => {
    const topic = logicalId(s.stack.notify!.topic);
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic },
    });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('finalize alone learns the topic and may publish to it (and use its key); nothing else may', () => {
    const topic = { Ref: logicalId(s.stack.notify!.topic) };
    expect(envOf(s, s.stack.finalize.fn)[NOTIFY_TOPIC_ENV]).toEqual(topic);
    for (const fn of [s.stack.chunk.fn, s.stack.start.fn]) expect(envOf(s, fn)).not.toHaveProperty(NOTIFY_TOPIC_ENV);
    const finalize = statementsOf(s.template, logicalId(s.stack.finalize.role));
    expect(finalize).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: topic }));
    expect(finalize).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalId(s.stack.notify!.key), 'Arn'] },
      }),
    );
    expect(snsActions(s)).toEqual([{ role: logicalId(s.stack.finalize.role), action: 'sns:Publish' }]);
  });

  it('no rule feeds the topic (an input transformer would mail the text JSON-quoted): finalize publishes it', () => {
    const rules = Object.values(s.template.findResources('AWS::Events::Rule'));
    expect(rules.filter((r) => JSON.stringify(r.Properties).includes(logicalId(s.stack.notify!.topic)))).toEqual([]);
    expect(rules.filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes(EVENT_SOURCE))).toEqual([]);
    // And no service principal (EventBridge) may use the topic's key any more.
    const [key] = Object.values(
      s.template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('run notices') } }),
    );
    expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain('events.amazonaws.com');
  });

  it('the threshold comes from the context parameter', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRIC.failedRowShare, Threshold: 12.5 });
  });

  it('cdk-nag stays clean', () => {
    expect(s.nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});

describe('the new context parameters', () => {
  it('failedRowsAlarmPercent defaults to 5 and stays within 0–100; notifyEmail must be an address', () => {
    expect(parseDeployConfig({}).failedRowsAlarmPercent).toBe(5);
    expect(parseDeployConfig({ failedRowsAlarmPercent: '0.5' }).failedRowsAlarmPercent).toBe(0.5);
    expect(() => parseDeployConfig({ failedRowsAlarmPercent: '101' })).toThrow(/failedRowsAlarmPercent/);
    expect(parseDeployConfig({ notifyEmail: 'a@b.co' }).notifyEmail).toBe('a@b.co');
    expect(() => parseDeployConfig({ notifyEmail: 'not mail' })).toThrow(/notifyEmail/);
  });
});
