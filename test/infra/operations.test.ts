import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../infra/config.ts';
import { DIMENSION, METRIC } from '../../lambda/aws/metricNames.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../lambda/report/notice.ts';
import { STATUSES } from '../../lambda/report/lines.ts';
import { logicalId, type Synth, synth } from '../support/infra.ts';

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

  it('no mail without notifyEmail: no topic, no rule on the run event', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
    const rules = Object.values(s.template.findResources('AWS::Events::Rule'));
    expect(rules.filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes(EVENT_SOURCE))).toEqual([]);
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
    s.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
  });

  it('a rule on the default bus matching the run event (source + detail-type) forwards detail.message to the topic', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
      Targets: [
        Match.objectLike({
          Arn: { Ref: logicalId(s.stack.notify!.topic) },
          InputTransformer: { InputPathsMap: { 'detail-message': '$.detail.message' }, InputTemplate: '"<detail-message>"' },
        }),
      ],
    });
    const [rule] = Object.values(
      s.template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: [EVENT_SOURCE] } } }),
    );
    expect(rule.Properties.EventBusName).toBeUndefined();
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
