import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { CHUNK_RETRIERS, FINALIZE_RETRIER, type Retrier, RUN_TIMEOUT_HOURS } from './retryPolicy.ts';

/** One retrier of the policy as the CDK takes it (a field left out stays out of the ASL, as before). */
export function toRetryProps(r: Retrier): sfn.RetryProps {
  return {
    errors: [...r.errors],
    maxAttempts: r.maxAttempts,
    ...(r.intervalSeconds !== undefined ? { interval: Duration.seconds(r.intervalSeconds) } : {}),
    ...(r.backoffRate !== undefined ? { backoffRate: r.backoffRate } : {}),
    ...(r.maxDelaySeconds !== undefined ? { maxDelay: Duration.seconds(r.maxDelaySeconds) } : {}),
    ...(r.jitter !== undefined ? { jitterStrategy: r.jitter === 'FULL' ? sfn.JitterType.FULL : sfn.JitterType.NONE } : {}),
  };
}

export interface WorkflowProps {
  chunk: lambda.IFunction;
  finalize: lambda.IFunction;
  logRetentionDays: number;
  tracing: boolean;
  /** Whole-run limit; a run of millions of rows at 2 req/s takes hours. */
  timeout?: Duration;
}

/**
 * The run as a standard workflow:
 * Chunk ⟲ (until checkpoint.done) → Finalize → Succeed, or Fail when the summary says refused/halted/cut short.
 * While the portal is unreachable the checkpoint carries waitUntilIso and WaitForPortal holds the execution
 * (not a Lambda) until then. A chunk that fails for good (also States.DataLimitExceeded, which States.ALL does
 * not catch) is caught into $.error; SkipRest reports the rows after the checkpoint `skipped` and
 * FinalizeFailedRun writes the report, so it has a line per row and says why; then Fail. A chunk that sets $.continueAs ends this
 * execution's share of a long run: Continue starts this state machine again with the state under that name
 * (the parts keep accumulating under the same prefix; only the last execution finalizes), then Continued.
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);

    const chunk = chunkTask(this, 'Chunk', props.chunk, 'Process one chunk of rows from the checkpoint; returns the next RunState.');
    const finalize = new tasks.LambdaInvoke(this, 'Finalize', {
      lambdaFunction: props.finalize,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      comment: 'Merge the report parts into report.csv, rejected.csv, summary.json; output = Summary.',
    });
    finalize.addRetry(toRetryProps(FINALIZE_RETRIER));
    const reportFailed = new sfn.Fail(this, 'ReportFailed', {
      comment: 'Finalize itself failed: the parts stay under parts/ until the lifecycle rule expires them.',
      errorPath: '$.finalizeError.Error',
      causePath: '$.finalizeError.Cause',
    });
    finalize.addCatch(reportFailed, { errors: ['States.ALL'], resultPath: '$.finalizeError' });
    const skipRest = failedRun(this, props, reportFailed);
    // States.ALL does not match States.DataLimitExceeded: it needs its own catcher, before the wildcard.
    chunk.addCatch(skipRest, { errors: ['States.DataLimitExceeded'], resultPath: '$.error' });
    chunk.addCatch(skipRest, { errors: ['States.ALL'], resultPath: '$.error' });

    // A finished run that did not import everything still fails the execution, so the alarm fires.
    const outcome = new sfn.Choice(this, 'Outcome')
      .when(sfn.Condition.isPresent('$.refused'), incomplete(this, 'FileRefused', '$.refused.message'))
      .when(sfn.Condition.isPresent('$.halted'), incomplete(this, 'RunHalted', '$.halted.message'))
      .when(sfn.Condition.isPresent('$.cutShort'), incomplete(this, 'CsvCutShort', '$.cutShort.message'))
      .otherwise(new sfn.Succeed(this, 'Imported'));

    const next = new sfn.Choice(this, 'Continue?')
      .when(sfn.Condition.isPresent('$.continueAs'), continueRun(this, skipRest))
      .otherwise(chunk);
    // The portal is unreachable: the execution waits, no Lambda runs (the checkpoint says until when, ISO 8601).
    const waitForPortal = new sfn.Wait(this, 'WaitForPortal', {
      comment: 'The portal is unreachable: try again at checkpoint.waitUntilIso (the chunk halts the run past its outage wait).',
      time: sfn.WaitTime.timestampPath('$.checkpoint.waitUntilIso'),
    });
    const loop = new sfn.Choice(this, 'Done?')
      .when(sfn.Condition.booleanEquals('$.checkpoint.done', true), finalize.next(outcome))
      .when(sfn.Condition.isPresent('$.checkpoint.waitUntilIso'), waitForPortal.next(next))
      .otherwise(next);
    const definition = chunk.next(loop);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vendedlogs prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${scope.node.path.replace(/[^\w-]/g, '-')}-${id}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.hours(RUN_TIMEOUT_HOURS),
      tracingEnabled: props.tracing,
      // Execution data holds row counts and keys, not secrets, but it is not needed to see what failed.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'b24-lead-import: one execution per uploaded CSV version.',
    });

    const role = this.stateMachine.role;
    this.grantContinue(role);
    for (const fn of [props.chunk, props.finalize]) {
      acknowledge(
        role,
        wildcardResourceFinding(this, `${fn.functionArn}:*`),
        'LambdaInvoke grants the function and its versions/aliases (ARN:*), nothing else.',
      );
    }
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'CloudWatch Logs delivery (and X-Ray, when on) actions for Step Functions logging support no resource-level permissions.',
    );
    if (!props.tracing) {
      acknowledge(
        this.stateMachine,
        'AwsSolutions-SF2',
        'X-Ray tracing is optional (context tracing=true); execution logs at level ALL cover diagnosis.',
      );
    }
  }

  /**
   * Continue starts executions of this state machine. A separate policy, not the role's default one: the
   * state machine waits for its default policy, so naming its own ARN there would be a circular reference.
   */
  private grantContinue(role: iam.IRole): void {
    new iam.Policy(this, 'ContinuePolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ sid: 'ContinueRun', actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
      ],
    });
  }
}

/**
 * Continue: StartExecution of this very state machine ($$.StateMachine.Id) with the state, named by the chunk
 * (`<run>-2`, `<run>-3`…). A retry after a start that did happen meets ExecutionAlreadyExists: that is the
 * same continuation, so it ends this execution as Continued too. Anything else is caught into the report.
 */
function continueRun(scope: Construct, failed: sfn.IChainable): sfn.IChainable {
  const continued = new sfn.Succeed(scope, 'Continued', { comment: 'The run goes on in the execution named by $.continueAs.' });
  const start = new sfn.CustomState(scope, 'Continue', {
    stateJson: {
      Type: 'Task',
      Comment: 'Hand the run on to a fresh execution (an execution has 25,000 history events and the timeout).',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', 'Name.$': '$.continueAs', 'Input.$': '$' },
      ResultPath: null,
    },
  });
  start.addRetry({
    errors: ['StepFunctions.ExecutionLimitExceededException', 'States.TaskFailed'],
    interval: Duration.seconds(5),
    maxAttempts: 5,
    backoffRate: 2,
  });
  start.addCatch(continued, { errors: ['StepFunctions.ExecutionAlreadyExistsException'], resultPath: '$.continued' });
  start.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
  return start.next(continued);
}

/** A LambdaInvoke of the worker (Chunk, SkipRest) with the chunk retriers of infra/retryPolicy.ts. */
function chunkTask(scope: Construct, id: string, fn: lambda.IFunction, comment: string): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    comment,
  });
  for (const retrier of CHUNK_RETRIERS) task.addRetry(toRetryProps(retrier));
  return task;
}

/**
 * The failure path, entered with the caught error in $.error. A failed run still reports every row: SkipRest
 * (the worker again, given $.error) reads the rest of the file without the portal, each row `skipped` RUN_FAILED,
 * until done; then FinalizeFailedRun writes the report and RunFailed ends the execution with the chunk's error.
 * If even SkipRest fails, the report stops at the checkpoint ($.skipError; $.error stays the chunk's).
 */
function failedRun(scope: Construct, props: WorkflowProps, reportFailed: sfn.IChainable): sfn.IChainable {
  // After a failure the state keeps $.error (for the Fail state) and the summary lands beside it.
  const finalizeFailed = new tasks.LambdaInvoke(scope, 'FinalizeFailedRun', {
    lambdaFunction: props.finalize,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    resultPath: '$.summary',
    comment: 'Write the report of a run whose chunks failed; the summary records the error.',
  });
  finalizeFailed.addRetry(toRetryProps(FINALIZE_RETRIER));
  finalizeFailed.addCatch(reportFailed, { errors: ['States.ALL'], resultPath: '$.finalizeError' });
  finalizeFailed.next(
    new sfn.Fail(scope, 'RunFailed', {
      comment: 'A chunk failed after its retries; the report under reports/ says how far the run got.',
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    }),
  );
  const skipRest = chunkTask(
    scope,
    'SkipRest',
    props.chunk,
    'The run failed: report the rows after the checkpoint as skipped (nothing is sent); returns the next RunState.',
  );
  skipRest.addCatch(finalizeFailed, { errors: ['States.DataLimitExceeded'], resultPath: '$.skipError' });
  skipRest.addCatch(finalizeFailed, { errors: ['States.ALL'], resultPath: '$.skipError' });
  skipRest.next(
    new sfn.Choice(scope, 'Skipped?').when(sfn.Condition.booleanEquals('$.checkpoint.done', true), finalizeFailed).otherwise(skipRest),
  );
  return skipRest;
}

function incomplete(scope: Construct, error: string, causePath: string): sfn.Fail {
  return new sfn.Fail(scope, error, {
    comment: 'Finalize wrote the report; the run did not import every row.',
    error,
    causePath,
  });
}
