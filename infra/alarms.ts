import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC } from '../lambda/aws/metricNames.ts';
import { runMetric } from './dashboard.ts';

export interface AlarmsProps {
  stateMachine: sfn.IStateMachine;
  deadLetters: sqs.IQueue;
  /** Existing SNS topic to notify; without it the alarms only change state (see the console or add actions). */
  alarmTopicArn?: string;
  /** The run metrics' namespace and service (finalize publishes FailedRowShare there). */
  namespace: string;
  service: string;
  /** A run whose failed rows pass this share of its rows (percent) sets off the alarm. */
  failedRowsPercent: number;
}

/** Someone should look when a run fails or times out, or when an upload never started a run. */
export class Alarms extends Construct {
  readonly runFailed: cloudwatch.Alarm;
  readonly runTimedOut: cloudwatch.Alarm;
  readonly startFailed: cloudwatch.Alarm;
  readonly failedRowShare: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const common = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.runFailed = new cloudwatch.Alarm(this, 'ExecutionsFailed', {
      ...common,
      alarmDescription: 'An import run failed: see its report under reports/ and the execution history.',
      metric: props.stateMachine.metricFailed({ period, statistic: 'Sum' }),
    });
    this.runTimedOut = new cloudwatch.Alarm(this, 'ExecutionsTimedOut', {
      ...common,
      alarmDescription: 'An import run hit the state machine timeout.',
      metric: props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
    });
    this.startFailed = new cloudwatch.Alarm(this, 'StartDeadLetters', {
      ...common,
      alarmDescription: 'An upload did not start a run: the S3 event is in the dead-letter queue.',
      metric: props.deadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    });
    // One datapoint per run (finalize): the period's maximum is the worst run in it.
    this.failedRowShare = new cloudwatch.Alarm(this, 'FailedRowShare', {
      alarmDescription: `An import run had more than ${props.failedRowsPercent}% of its rows failed at the portal: see its report.html and rejected.csv.`,
      metric: runMetric(props, METRIC.failedRowShare, 'Maximum'),
      threshold: props.failedRowsPercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.alarmTopicArn !== undefined) {
      const action = new actions.SnsAction(sns.Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn));
      for (const alarm of [this.runFailed, this.runTimedOut, this.startFailed, this.failedRowShare]) alarm.addAlarmAction(action);
    }
  }
}
