import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DIMENSION, METRIC } from '../lambda/aws/metricNames.ts';
import { STATUSES } from '../lambda/report/lines.ts';

export interface DashboardProps {
  stateMachine: sfn.IStateMachine;
  /** The metrics' namespace (the stack name, as the handlers get it in POWERTOOLS_METRICS_NAMESPACE). */
  namespace: string;
  service: string;
  failedRowShare: cloudwatch.IAlarm;
}

const PERIOD = Duration.minutes(5);

/** The run metrics the handlers emit (metricNames.ts), in the stack's namespace, with the service dimension. */
export function runMetric(
  props: Pick<DashboardProps, 'namespace' | 'service'>,
  name: string,
  statistic: string,
  extra: Record<string, string> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: props.namespace,
    metricName: name,
    dimensionsMap: { [DIMENSION.service]: props.service, ...extra },
    statistic,
    period: PERIOD,
  });
}

/** One page for the imports: executions next to rows by status, limit refusals, throttle waits, requests, speed. */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const sm = props.stateMachine;
    const executions = [
      sm.metricStarted({ period: PERIOD, statistic: 'Sum', label: 'started' }),
      sm.metricSucceeded({ period: PERIOD, statistic: 'Sum', label: 'succeeded' }),
      sm.metricFailed({ period: PERIOD, statistic: 'Sum', label: 'failed' }),
      sm.metricTimedOut({ period: PERIOD, statistic: 'Sum', label: 'timed out' }),
      sm.metricAborted({ period: PERIOD, statistic: 'Sum', label: 'aborted' }),
    ];
    const rows = STATUSES.map((status) => runMetric(props, METRIC.rows, 'Sum', { [DIMENSION.status]: status }).with({ label: status }));
    // Limit codes are the portal's (QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT, HTTP 429…): found by search, not listed.
    const limitErrors = new cloudwatch.MathExpression({
      expression: `SEARCH('{${props.namespace},${DIMENSION.service},${DIMENSION.code}} MetricName="${METRIC.limitErrors}"', 'Sum', 300)`,
      usingMetrics: {},
      label: 'limit errors',
      period: PERIOD,
    });
    const graph = (title: string, left: cloudwatch.IMetric[], stacked = false) =>
      new cloudwatch.GraphWidget({ title, left, stacked, width: 12, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [graph('Executions', executions), graph('Rows by status', rows, true)],
        [
          graph('Limit errors by code', [limitErrors]),
          graph('Throttle wait (s) and requests', [runMetric(props, METRIC.throttleWait, 'Sum'), runMetric(props, METRIC.requests, 'Sum')]),
        ],
        [
          graph('Rows per second (per chunk)', [runMetric(props, METRIC.rowsPerSecond, 'Average')]),
          new cloudwatch.AlarmWidget({ title: 'Failed rows per run (%)', alarm: props.failedRowShare, width: 12, height: 6 }),
        ],
      ],
    });
  }
}
