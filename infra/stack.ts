import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { Alarms } from './alarms.ts';
import { Dashboard } from './dashboard.ts';
import { Notify } from './notify.ts';
import { type DeployConfig, type DeployConfigInput, parseDeployConfig } from './config.ts';
import { Handler } from './handler.ts';
import { LinkSigner } from './linkSigner.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { PREFIX, Storage } from './storage.ts';
import { Workflow } from './workflow.ts';
import { QUEUE_PREFIX } from '../lambda/aws/runQueue.ts';
import { CHANGES_JSON_FILE } from '../lambda/report/changeFiles.ts';
import { SUMMARY_FILE } from '../lambda/report/lines.ts';

/** The report files start reads for an undo (lambda/undo/runLog.ts). */
const UNDO_READS = [CHANGES_JSON_FILE, SUMMARY_FILE] as const;

/** The worker's Lambda timeout (the maximum) and the budget it gives itself, leaving time to write its part. */
export const CHUNK_TIMEOUT = Duration.minutes(15);
export const CHUNK_BUDGET = Duration.minutes(13);
export const SERVICE_NAME = 'b24-lead-import';

export interface LeadImportStackProps extends StackProps {
  /** Deploy parameters; anything left out takes the default from `infra/config.ts`. */
  config?: DeployConfigInput;
}

/**
 * b24-lead-import on AWS: an upload to incoming/*.csv → start (one execution per object version) →
 * the state machine loops the chunk worker, then finalize writes reports/…/{report.csv,rejected.csv,summary.json}.
 */
export class LeadImportStack extends Stack {
  readonly config: DeployConfig;
  readonly bucket: s3.IBucket;
  readonly start: Handler;
  readonly chunk: Handler;
  readonly finalize: Handler;
  readonly workflow: Workflow;
  readonly deadLetters: sqs.Queue;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;
  /** The run-end mail (context notifyEmail); absent without it. */
  readonly notify?: Notify;
  /** The key that signs the run-end links for 7 days (context sevenDayLinks); absent without it. */
  readonly linkSigner?: LinkSigner;

  constructor(scope: Construct, id: string, props: LeadImportStackProps = {}) {
    super(scope, id, props);
    this.config = parseDeployConfig({ ...props.config });
    const config = this.config;

    const storage = new Storage(this, 'Storage', config);
    this.bucket = storage.bucket;
    // Imported by name: the template holds the name (and an ARN built from it), never the webhook URL.
    const webhook = secretsmanager.Secret.fromSecretNameV2(this, 'WebhookSecret', config.webhookSecretName);

    const limits = {
      PORTAL_RATE: String(config.portalRate),
      PORTAL_BURST: String(config.portalBurst),
      OPERATING_LIMIT: String(config.operatingLimit),
      OPERATING_WINDOW: String(config.operatingWindow),
    };
    const common = {
      logRetentionDays: config.logRetentionDays,
      logLevel: config.logLevel,
      tracing: config.tracing,
    };
    const logEnv = { POWERTOOLS_SERVICE_NAME: SERVICE_NAME, LOG_LEVEL: config.logLevel };
    // The run metrics (EMF) go to a namespace named after the stack: two deployments never mix their graphs.
    const metricsEnv = { POWERTOOLS_METRICS_NAMESPACE: this.stackName };

    this.chunk = new Handler(this, 'Chunk', {
      ...common,
      entry: 'lambda/aws/chunkHandler.ts',
      description: 'b24-lead-import worker: one chunk of rows into Bitrix24',
      memoryMb: config.memoryMb,
      timeout: CHUNK_TIMEOUT,
      reservedConcurrency: config.workerConcurrency > 0 ? config.workerConcurrency : undefined,
      environment: {
        ...limits,
        ...logEnv,
        ...metricsEnv,
        BUCKET: this.bucket.bucketName,
        WEBHOOK_SECRET_ARN: webhook.secretArn,
        CHUNK_BUDGET_MS: String(CHUNK_BUDGET.toMilliseconds()),
        MAX_IDLE_CHUNKS: String(config.maxIdleChunks),
      },
    });
    this.finalize = new Handler(this, 'Finalize', {
      ...common,
      entry: 'lambda/aws/finalizeHandler.ts',
      description: 'b24-lead-import finalize: merge report parts into the run report',
      memoryMb: config.memoryMb,
      timeout: CHUNK_TIMEOUT,
      environment: { ...logEnv, ...metricsEnv, BUCKET: this.bucket.bucketName },
    });

    this.workflow = new Workflow(this, 'Run', {
      chunk: this.chunk.fn,
      finalize: this.finalize.fn,
      logRetentionDays: config.logRetentionDays,
      tracing: config.tracing,
    });

    this.start = new Handler(this, 'Start', {
      ...common,
      entry: 'lambda/aws/startHandler.ts',
      description: 'b24-lead-import start: queues one run per uploaded CSV version and starts them one at a time',
      // 512 MB: an undo ({ "undo": … }) reads a run's change log of up to 32 MB and writes the undo's input.
      memoryMb: 512,
      timeout: Duration.seconds(30),
      // The queue's dispatcher must never run twice at once (lambda/aws/runQueue.ts). Without any reservation
      // (workerConcurrency=0, accounts whose quota refuses one) two uploads in the same second may both start.
      reservedConcurrency: config.workerConcurrency > 0 ? 1 : undefined,
      environment: {
        ...limits,
        ...logEnv,
        STATE_MACHINE_ARN: this.workflow.stateMachine.stateMachineArn,
        DRY_RUN: String(config.dryRun),
        BUCKET: this.bucket.bucketName,
        ...(config.outageWaitHours !== undefined ? { OUTAGE_WAIT_MS: String(Math.round(config.outageWaitHours * 3600_000)) } : {}),
      },
    });

    // S3 invokes start asynchronously; events Lambda could not deliver after its retries land here.
    this.deadLetters = new sqs.Queue(this, 'StartDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.start.fn.configureAsyncInvoke({
      onFailure: new SqsDestination(this.deadLetters),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    // No suffix filter: S3's is case-sensitive (incoming/A.CSV would never run); the handler checks .csv in any case.
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new LambdaDestination(this.start.fn), {
      prefix: PREFIX.incoming,
    });
    this.queueTriggers();

    this.grantLeastPrivilege(storage, webhook);

    this.alarms = new Alarms(this, 'Alarms', {
      stateMachine: this.workflow.stateMachine,
      deadLetters: this.deadLetters,
      alarmTopicArn: config.alarmTopicArn,
      namespace: this.stackName,
      service: SERVICE_NAME,
      failedRowsPercent: config.failedRowsAlarmPercent,
    });
    ({ dashboard: this.dashboard, notify: this.notify, linkSigner: this.linkSigner } = this.operations(config));
    this.outputs();

    this.acknowledgeFindings(storage);
  }

  /**
   * The runs at a glance (dashboard); with notifyEmail, each run's end mailed (finalize publishes to SNS); with
   * sevenDayLinks, the message's links signed by a long-term key so they last 7 days, not finalize's session.
   */
  private operations(config: DeployConfig): { dashboard: Dashboard; notify?: Notify; linkSigner?: LinkSigner } {
    const dashboard = new Dashboard(this, 'Dashboard', {
      stateMachine: this.workflow.stateMachine,
      namespace: this.stackName,
      service: SERVICE_NAME,
      failedRowShare: this.alarms.failedRowShare,
    });
    const linkSigner = config.sevenDayLinks
      ? new LinkSigner(this, 'LinkSigner', { bucket: this.bucket, signer: this.finalize.fn, serial: config.linkKeySerial })
      : undefined;
    const notify = config.notifyEmail === undefined ? undefined : new Notify(this, 'Notify', { email: config.notifyEmail });
    return { dashboard, ...(notify ? { notify } : {}), ...(linkSigner ? { linkSigner } : {}) };
  }

  private outputs(): void {
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'Upload CSVs to incoming/' });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StartFunctionName', { value: this.start.fn.functionName, description: 'Invoke for a backfill' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetters.queueUrl });
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboard.dashboardName,
      description: 'CloudWatch dashboard of the runs',
    });
    if (this.notify) new CfnOutput(this, 'NotifyTopicArn', { value: this.notify.topic.topicArn, description: 'Run-end messages (e-mail)' });
  }

  /**
   * The queue moves on when a run's execution ends, whatever the end (succeeded, failed, timed out, aborted:
   * EventBridge sees what no Catch does), and every 15 minutes in case one of those events was lost.
   */
  private queueTriggers(): void {
    const target = new targets.LambdaFunction(this.start.fn, {
      event: events.RuleTargetInput.fromObject({ dispatch: true }),
      retryAttempts: 8,
      deadLetterQueue: this.deadLetters,
    });
    new events.Rule(this, 'RunEnded', {
      description: 'b24-lead-import: an execution ended, start the next queued run',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.workflow.stateMachine.stateMachineArn], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [target],
    });
    new events.Rule(this, 'QueueTick', {
      description: 'b24-lead-import: move the run queue on if an end event was lost',
      schedule: events.Schedule.rate(Duration.minutes(15)),
      targets: [target],
    });
  }

  /** Each remaining cdk-nag finding, named exactly, with the reason it is acceptable. */
  private acknowledgeFindings(storage: Storage): void {
    const prefixed = 'Object access is scoped to one key prefix of the import bucket; object keys are per run.';
    acknowledge(this.start, wildcardResourceFinding(this, storage.objects(PREFIX.incoming)), prefixed);
    acknowledge(this.chunk, wildcardResourceFinding(this, storage.objects(PREFIX.incoming)), prefixed);
    acknowledge(this.chunk, wildcardResourceFinding(this, storage.objects(PREFIX.parts)), prefixed);
    acknowledge(this.finalize, wildcardResourceFinding(this, storage.objects(PREFIX.parts)), prefixed);
    acknowledge(this.finalize, wildcardResourceFinding(this, storage.objects(PREFIX.reports)), prefixed);
    acknowledge(this.start, wildcardResourceFinding(this, storage.objects(PREFIX.undo)), prefixed);
    acknowledge(this.chunk, wildcardResourceFinding(this, storage.objects(PREFIX.undo)), prefixed);
    const runFile = "One file name in every run's report folder (reports/<file>/<runId>/): runs are per upload, the name fixed.";
    for (const file of UNDO_READS) acknowledge(this.start, wildcardResourceFinding(this, storage.runFiles(file)), runFile);
    acknowledge(this.deadLetters, 'AwsSolutions-SQS3', 'This queue is the dead-letter destination itself.');
    acknowledge(
      this.start,
      wildcardResourceFinding(this, this.bucket.arnForObjects(`${QUEUE_PREFIX}*`)),
      'The run queue: one prefix of the import bucket, one small object per queued run.',
    );
    acknowledge(
      this.start,
      wildcardResourceFinding(this, this.executionsArn()),
      "DescribeExecution on this state machine's executions only (a run's execution names are known, not fixed).",
    );
    // CDK's singleton that applies S3 notifications (also to an imported bucket).
    const notifications = this.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (notifications !== undefined) {
      acknowledge(
        notifications,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK-managed custom resource that sets the bucket notification at deploy time; its role is not configurable.',
      );
    }
  }

  /** arn:…:execution:<state machine name>:* */
  private executionsArn(): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.workflow.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Explicit actions on prefix-scoped resources: no action wildcards, no bucket-wide object access. */
  private grantLeastPrivilege(storage: Storage, webhook: secretsmanager.ISecret): void {
    this.workflow.stateMachine.grantStartExecution(this.start.fn);
    // The run queue (queue/ in the bucket) and whether a run's executions are still going (by name).
    this.start.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RunQueue',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${QUEUE_PREFIX}*`)],
      }),
    );
    this.start.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListQueue',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${QUEUE_PREFIX}*`] } },
      }),
    );
    this.start.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WatchRuns',
        actions: ['states:DescribeExecution'],
        resources: [this.executionsArn()],
      }),
    );
    // start pins the object (HeadObject: size, ETag, its b24-options metadata) before it starts the run; HeadObject
    // is authorised by GetObject, and by GetObjectVersion for the version the event names (a versioned bucket).
    this.start.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'HeadSources',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [storage.objects(PREFIX.incoming)],
      }),
    );
    const chunk = this.chunk.role;
    chunk.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSources',
        // GetObjectVersion: the run reads the version pinned at start, even after a re-upload.
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [storage.objects(PREFIX.incoming)],
      }),
    );
    chunk.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteParts',
        // GetObject: the run's header is kept beside its parts (parts/<runId>/header.json) and read by every chunk.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [storage.objects(PREFIX.parts)],
      }),
    );
    webhook.grantRead(this.chunk.fn);

    const finalize = this.finalize.role;
    finalize.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListParts',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${PREFIX.parts}*`] } },
      }),
    );
    finalize.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeParts',
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [storage.objects(PREFIX.parts)],
      }),
    );
    finalize.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteReports',
        // GetObject: the run-end message's pre-signed links (report.html, rejected.csv) act with finalize's rights.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [storage.objects(PREFIX.reports)],
      }),
    );
    // The run-end event, on the account's default bus only.
    finalize.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishRunEnd',
        actions: ['events:PutEvents'],
        resources: [Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
      }),
    );
    this.grantUndo(storage);
  }

  /** What an undo of a run needs beyond a run's grants (start prepares it, the chunk reads it). */
  private grantUndo(storage: Storage): void {
    // An undo ({ "undo": "reports/<file>/<run>/" }): the run's change log, and its summary to say why it has none
    // (a dry run, --no-diff); no other report file. It writes the undo's input under undo/ (GetObject: HeadObject
    // pins what it wrote), never under incoming/, so the input starts no run by itself.
    this.start.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRunLogs',
        actions: ['s3:GetObject'],
        resources: UNDO_READS.map((file) => storage.runFiles(file)),
      }),
    );
    this.start.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteUndoInputs',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [storage.objects(PREFIX.undo)],
      }),
    );

    this.chunk.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadUndoInputs',
        // An undo runs from the input start wrote, at the version start pinned.
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [storage.objects(PREFIX.undo)],
      }),
    );
  }
}
