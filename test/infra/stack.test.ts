import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_CRASH_ERRORS, CHUNK_FATAL_ERRORS, FINALIZE_RETRIER, LAMBDA_SERVICE_ERRORS } from '../../infra/retryPolicy.ts';
import { acknowledgments, actionsOf, definitionOf, logicalId, type Statement, statementsOf, type Synth, synth } from '../support/infra.ts';

const FAKE_SECRET_NAME = 'tests/fake-webhook-secret-name';

let s: Synth;
beforeAll(() => {
  s = synth({ webhookSecretName: FAKE_SECRET_NAME });
}, 120_000);

const fnProps = (id: 'start' | 'chunk' | 'finalize') => s.template.toJSON().Resources[logicalId(s.stack[id].fn)].Properties;

describe('bucket', () => {
  it('is encrypted, private, TLS-only and versioned', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue() },
    });
    const policy = Object.values(s.template.findResources('AWS::S3::BucketPolicy')).find(
      (p) => p.Properties.Bucket.Ref === logicalId(s.stack.bucket),
    );
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('expires reports and leftover parts, aborts multipart uploads, expires old versions', () => {
    const bucket = s.template.toJSON().Resources[logicalId(s.stack.bucket)];
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'reports/', ExpirationInDays: 90, Status: 'Enabled' }));
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'parts/', ExpirationInDays: 7, Status: 'Enabled' }));
    const wide = rules.find((r) => r.Prefix === undefined);
    expect(wide).toMatchObject({
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
    });
    // Sources expire too since 7e2f594 (incomingRetentionDays), and an undo's input (undo/) as sources do; the run
    // queue (queue/) is never expired by a rule.
    expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix)).toEqual([
      'incoming/',
      'undo/',
      'reports/',
      'parts/',
    ]);
  });

  it('notifies start for ObjectCreated under incoming/, whatever the case of the .csv (the handler filters it)', () => {
    const [notification] = Object.values(s.template.findResources('Custom::S3BucketNotifications'));
    const configs = notification.Properties.NotificationConfiguration.LambdaFunctionConfigurations;
    expect(configs).toHaveLength(1);
    expect(configs[0].Events).toEqual(['s3:ObjectCreated:*']);
    expect(configs[0].LambdaFunctionArn).toEqual({ 'Fn::GetAtt': [logicalId(s.stack.start.fn), 'Arn'] });
    // S3's filter as S3 applies it: a prefix and a suffix, both case-sensitive.
    const rules = configs[0].Filter.Key.FilterRules as Array<{ Name: string; Value: string }>;
    const admits = (key: string) =>
      rules.every((r) => (r.Name.toLowerCase() === 'prefix' ? key.startsWith(r.Value) : key.endsWith(r.Value)));
    expect(['incoming/a.csv', 'incoming/A.CSV', 'incoming/sub/b.Csv'].map(admits)).toEqual([true, true, true]);
    expect(admits('reports/a.csv')).toBe(false);
  });
});

describe('functions', () => {
  it('run nodejs22.x on arm64 with JSON logs, a level and a retained log group', () => {
    for (const id of ['start', 'chunk', 'finalize'] as const) {
      const p = fnProps(id);
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      expect(p.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        LogGroup: { Ref: logicalId(s.stack[id].logGroup) },
      });
      expect(p.Environment.Variables).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'b24-lead-import', LOG_LEVEL: 'INFO' });
    }
    const groups = Object.values(s.template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it('are bundled by esbuild as ESM with the createRequire banner', () => {
    // The asset is staged as asset.<hash> in the assembly; the zip uploaded is <hash>.zip.
    const hash = String(fnProps('chunk').Code.S3Key).replace(/\.zip$/, '');
    const assetDir = join(s.app.outdir, `asset.${hash}`);
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire as __cjsRequire } from 'node:module';")).toBe(true);
    expect(code).toMatch(/export\s*\{[^}]*handler/);
  });

  it('give the worker the maximum timeout, a budget below it, and reserved concurrency 1', () => {
    const chunk = fnProps('chunk');
    expect(chunk.Timeout).toBe(900);
    const budget = Number(chunk.Environment.Variables.CHUNK_BUDGET_MS);
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThanOrEqual(900_000 - 60_000);
    expect(chunk.ReservedConcurrentExecutions).toBe(1);
    expect(chunk.MemorySize).toBe(1024);
    expect(chunk.Environment.Variables).toMatchObject({
      PORTAL_RATE: '2',
      PORTAL_BURST: '50',
      OPERATING_LIMIT: '480',
      OPERATING_WINDOW: '600',
      MAX_IDLE_CHUNKS: '12',
      BUCKET: { Ref: logicalId(s.stack.bucket) },
    });
    // The run queue's dispatcher runs one at a time.
    expect(fnProps('start').ReservedConcurrentExecutions).toBe(1);
    expect(fnProps('start').Environment.Variables.BUCKET).toEqual({ Ref: logicalId(s.stack.bucket) });
    expect(fnProps('start').Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: logicalId(s.stack.workflow.stateMachine) });
    expect(fnProps('start').Environment.Variables.DRY_RUN).toBe('false');
    // No outageWaitHours in the context: the run option's own default (6 h) applies.
    expect(fnProps('start').Environment.Variables.OUTAGE_WAIT_MS).toBeUndefined();
    expect(fnProps('finalize').Environment.Variables.BUCKET).toEqual({ Ref: logicalId(s.stack.bucket) });
  });

  it('send start events that failed all retries to an encrypted, TLS-only queue', () => {
    const queueId = logicalId(s.stack.deadLetters);
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(s.stack.start.fn) },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    expect(s.template.toJSON().Resources[queueId].Properties.SqsManagedSseEnabled).toBe(true);
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('the webhook secret', () => {
  it('is referenced by name only: no URL and no secret value in the template', () => {
    expect(s.json).toContain(FAKE_SECRET_NAME);
    expect(s.json).not.toMatch(/https?:\/\//);
    expect(s.json).not.toMatch(/bitrix24\.|\/rest\/\d/i);
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(fnProps('chunk').Environment.Variables.WEBHOOK_SECRET_ARN).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:secret:${FAKE_SECRET_NAME}`,
        ],
      ],
    });
  });

  it('is readable by the chunk role only', () => {
    const readers = Object.values(s.template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:'))),
    );
    expect(readers.map((p) => p.Properties.Roles)).toEqual([[{ Ref: logicalId(s.stack.chunk.role) }]]);
    for (const id of ['start', 'finalize'] as const) {
      expect(fnProps(id).Environment.Variables.WEBHOOK_SECRET_ARN).toBeUndefined();
    }
  });
});

describe('least privilege', () => {
  // Actions come sorted (cdk.json: @aws-cdk/aws-iam:minimizePolicies).
  const nonLogging = (id: 'start' | 'chunk' | 'finalize') =>
    statementsOf(s.template, logicalId(s.stack[id].role)).filter((st) => !actionsOf(st).every((a) => a.startsWith('logs:')));

  it("lets start only head sources, keep the run queue, prepare an undo (read runs' change logs and summaries, write undo/), start and watch executions of this state machine (and report to its dead-letter queue)", () => {
    const bucketArn = { 'Fn::GetAtt': [logicalId(s.stack.bucket), 'Arn'] };
    const all = nonLogging('start');
    // start pins the source version with HeadObject (authorised by s3:GetObject), under incoming/ only; the queue is queue/;
    // an undo reads changes.jsonl and summary.json of a run's report folder, no other report file, and writes under undo/.
    const head = all.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));
    expect(head).toEqual([
      expect.objectContaining({
        Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/queue/*']] },
      }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['queue/*'] } } }),
      expect.objectContaining({
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/incoming/*']] },
      }),
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: [
          { 'Fn::Join': ['', [bucketArn, '/reports/*/changes.jsonl']] },
          { 'Fn::Join': ['', [bucketArn, '/reports/*/summary.json']] },
        ],
      }),
      expect.objectContaining({
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/undo/*']] },
      }),
    ]);
    const watch = all.filter((st) => actionsOf(st).includes('states:DescribeExecution'));
    expect(watch).toHaveLength(1);
    expect(JSON.stringify(watch[0].Resource)).toMatch(/:execution:/);
    const statements = all.filter((st) => !head.includes(st) && !watch.includes(st));
    const start = statements.filter((st) => actionsOf(st).includes('states:StartExecution'));
    expect(start).toEqual([
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: logicalId(s.stack.workflow.stateMachine) } }),
    ]);
    const rest = statements.filter((st) => !start.includes(st));
    // The on-failure destination is delivered with the function's role (SqsDestination's grant), to that one queue.
    expect(rest).toEqual([
      expect.objectContaining({
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: { 'Fn::GetAtt': [logicalId(s.stack.deadLetters), 'Arn'] },
      }),
    ]);
  });

  it('scopes the chunk to reading incoming/ and undo/ and writing parts/ (and reading back the run header kept there)', () => {
    const bucketArn = { 'Fn::GetAtt': [logicalId(s.stack.bucket), 'Arn'] };
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
    const s3 = nonLogging('chunk').filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objects('incoming/') }),
      expect.objectContaining({ Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], Resource: objects('parts/') }),
      expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objects('undo/') }),
    ]);
  });

  it('scopes finalize to listing, reading and deleting parts/, writing (and signing links to) reports/, and the default bus', () => {
    const bucketArn = { 'Fn::GetAtt': [logicalId(s.stack.bucket), 'Arn'] };
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
    const defaultBus = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default'],
      ],
    };
    expect(nonLogging('finalize')).toEqual([
      expect.objectContaining({ Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['parts/*'] } } }),
      expect.objectContaining({ Action: ['s3:DeleteObject', 's3:GetObject'], Resource: objects('parts/') }),
      expect.objectContaining({ Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], Resource: objects('reports/') }),
      expect.objectContaining({ Action: 'events:PutEvents', Resource: defaultBus }),
    ]);
  });

  it('writes logs only to each function’s own log group, with no managed policies', () => {
    for (const id of ['start', 'chunk', 'finalize'] as const) {
      const logging = statementsOf(s.template, logicalId(s.stack[id].role)).filter((st) =>
        actionsOf(st).some((a) => a.startsWith('logs:')),
      );
      expect(logging).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [logicalId(s.stack[id].logGroup), 'Arn'] } })]);
      expect(s.template.toJSON().Resources[logicalId(s.stack[id].role)].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('uses no wildcard actions anywhere', () => {
    const actions = Object.values(s.template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf),
    );
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });
});

describe('state machine', () => {
  it('is a standard workflow with logging, a generous timeout and no execution data in logs', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [Match.anyValue()] },
    });
    expect(definitionOf(s.template).TimeoutSeconds).toBe(24 * 3600);
  });

  it('loops Chunk until checkpoint.done, then Finalize', () => {
    const def = definitionOf(s.template);
    expect(def.StartAt).toBe('Chunk');
    const chunk = def.States.Chunk;
    expect(chunk.Type).toBe('Task');
    expect(chunk.Resource).toMatch(/:states:::lambda:invoke$|^\$\{token\}$/);
    expect(chunk.Parameters?.FunctionName ?? chunk.Resource).toBeDefined();
    expect(chunk.Next).toBe('Done?');
    const done = def.States['Done?'];
    expect(done.Choices).toEqual([
      { Variable: '$.checkpoint.done', BooleanEquals: true, Next: 'Finalize' },
      { Variable: '$.checkpoint.waitUntilIso', IsPresent: true, Next: 'WaitForPortal' },
    ]);
    expect(done.Default).toBe('Continue?');
    const next = def.States['Continue?'];
    expect(next.Choices).toEqual([{ Variable: '$.continueAs', IsPresent: true, Next: 'Continue' }]);
    expect(next.Default).toBe('Chunk');
    expect(def.States.Finalize.Next).toBe('Outcome');
    expect(def.States.Imported.Type).toBe('Succeed');
  });

  it("waits out an unreachable portal in a Wait state on the checkpoint's ISO timestamp: no Lambda runs meanwhile", () => {
    const def = definitionOf(s.template);
    expect(def.States.WaitForPortal).toMatchObject({ Type: 'Wait', TimestampPath: '$.checkpoint.waitUntilIso', Next: 'Continue?' });
  });

  it('continues a long run in a fresh execution of itself under the name the chunk gave, then ends this one successfully', () => {
    const def = definitionOf(s.template);
    const next = def.States.Continue as unknown as {
      Type: string;
      Resource: string;
      Parameters: Record<string, string>;
      Next: string;
      Catch: Array<{ ErrorEquals: string[]; Next: string }>;
    };
    expect(next).toMatchObject({ Type: 'Task', Resource: 'arn:aws:states:::states:startExecution', Next: 'Continued' });
    expect(next.Parameters).toEqual({ 'StateMachineArn.$': '$$.StateMachine.Id', 'Name.$': '$.continueAs', 'Input.$': '$' });
    expect(next.Catch.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['StepFunctions.ExecutionAlreadyExistsException'], 'Continued'],
      [['States.ALL'], 'SkipRest'],
    ]);
    expect(def.States.Continued.Type).toBe('Succeed');
    // The role may start executions of this state machine, and nothing else of Step Functions.
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: 'states:StartExecution', Resource: { Ref: Match.stringLikeRegexp('StateMachine') } })],
      },
    });
  });

  it('retries Lambda service errors patiently and chunk crashes a couple of times', () => {
    const retry = definitionOf(s.template).States.Chunk.Retry ?? [];
    const service = retry.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
    expect(service?.ErrorEquals).toEqual(LAMBDA_SERVICE_ERRORS);
    // Runs no longer wait for each other by throttling (the queue): enough for a service hiccup, within one execution's quotas.
    expect(service?.MaxAttempts).toBeGreaterThanOrEqual(20);
    expect(service?.BackoffRate).toBeGreaterThan(1);
    expect(service?.MaxDelaySeconds).toBeGreaterThan(0);
    const crash = retry.find((r) => r.ErrorEquals.includes('Sandbox.Timedout'));
    expect(crash?.ErrorEquals).toEqual(CHUNK_CRASH_ERRORS);
    expect(crash?.MaxAttempts).toBe(2);
    expect(retry.flatMap((r) => r.ErrorEquals)).not.toContain('States.ALL');
  });

  it('never retries errors no retry can fix, then retries any other chunk failure 3 times with backoff, last', () => {
    const retry = definitionOf(s.template).States.Chunk.Retry ?? [];
    expect(retry.map((r) => r.ErrorEquals)).toEqual([LAMBDA_SERVICE_ERRORS, CHUNK_CRASH_ERRORS, CHUNK_FATAL_ERRORS, ['States.TaskFailed']]);
    expect(retry[2].MaxAttempts).toBe(0);
    expect(retry[2].ErrorEquals).toEqual(
      expect.arrayContaining(['RunHaltedError', 'ConfigurationError', 'ObjectChangedError', 'NoProgressError']),
    );
    expect(retry[3]).toMatchObject({ MaxAttempts: 3, IntervalSeconds: 10, BackoffRate: 2 });
  });

  it('renders the retry policy of infra/retryPolicy.ts field for field, in its order (Chunk, Finalize, FinalizeFailedRun)', () => {
    const states = definitionOf(s.template).States;
    // The ASL Step Functions gets, written out once here: a change of the policy shows in this test.
    expect(states.Chunk.Retry).toEqual([
      {
        ErrorEquals: LAMBDA_SERVICE_ERRORS,
        IntervalSeconds: 5,
        MaxAttempts: 40,
        BackoffRate: 2,
        MaxDelaySeconds: 300,
        JitterStrategy: 'FULL',
      },
      { ErrorEquals: CHUNK_CRASH_ERRORS, IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2 },
      { ErrorEquals: CHUNK_FATAL_ERRORS, MaxAttempts: 0 },
      { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 2 },
    ]);
    const finalize = {
      ErrorEquals: FINALIZE_RETRIER.errors,
      IntervalSeconds: 5,
      MaxAttempts: 20,
      BackoffRate: 2,
      MaxDelaySeconds: 300,
      JitterStrategy: 'FULL',
    };
    expect([states.Finalize.Retry, states.FinalizeFailedRun.Retry]).toEqual([[finalize], [finalize]]);
  });

  it('still finalizes a failed run into a report with a line per row (SkipRest first), then fails with the chunk error', () => {
    const def = definitionOf(s.template);
    // States.ALL does not catch States.DataLimitExceeded: it has its own catcher.
    expect(def.States.Chunk.Catch).toEqual([
      { ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.error', Next: 'SkipRest' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'SkipRest' },
    ]);
    // SkipRest is the chunk function again (with $.error: every row after the checkpoint skipped), until done.
    const skip = def.States.SkipRest;
    expect(skip.Parameters?.FunctionName).toEqual(def.States.Chunk.Parameters?.FunctionName);
    expect(skip.Retry).toEqual(def.States.Chunk.Retry);
    expect(skip.Next).toBe('Skipped?');
    expect(skip.Catch).toEqual([
      { ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.skipError', Next: 'FinalizeFailedRun' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.skipError', Next: 'FinalizeFailedRun' },
    ]);
    expect(def.States['Skipped?'].Choices).toEqual([{ Variable: '$.checkpoint.done', BooleanEquals: true, Next: 'FinalizeFailedRun' }]);
    expect(def.States['Skipped?'].Default).toBe('SkipRest');
    const finalizeFailed = def.States.FinalizeFailedRun;
    expect(finalizeFailed.ResultPath).toBe('$.summary');
    expect(finalizeFailed.Next).toBe('RunFailed');
    expect(def.States.RunFailed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(finalizeFailed.Catch?.[0].Next).toBe('ReportFailed');
  });

  it('fails the execution when the summary says the file was refused, halted or cut short', () => {
    const def = definitionOf(s.template);
    expect(def.States.Outcome.Choices?.map((c) => [c.Variable, c.IsPresent, c.Next])).toEqual([
      ['$.refused', true, 'FileRefused'],
      ['$.halted', true, 'RunHalted'],
      ['$.cutShort', true, 'CsvCutShort'],
    ]);
    expect(def.States.Outcome.Default).toBe('Imported');
    expect(def.States.FileRefused).toMatchObject({ Type: 'Fail', Error: 'FileRefused', CausePath: '$.refused.message' });
  });
});

describe('alarms and outputs', () => {
  it('alarms on any failed execution and on any dead-lettered start event', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(s.stack.workflow.stateMachine) } }],
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(s.stack.deadLetters), 'QueueName'] } }],
    });
  });

  it('outputs the bucket, the state machine and the start function', () => {
    const outputs = s.template.toJSON().Outputs;
    expect(outputs.BucketName.Value).toEqual({ Ref: logicalId(s.stack.bucket) });
    expect(outputs.StateMachineArn.Value).toEqual({ Ref: logicalId(s.stack.workflow.stateMachine) });
    expect(outputs.StartFunctionName.Value).toEqual({ Ref: logicalId(s.stack.start.fn) });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged errors or warnings', () => {
    expect(s.nag.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
    expect(s.nag.success).toBe(true);
  });

  it('acknowledges each finding by exact id with a one-line reason', () => {
    const acks = acknowledgments(s.app);
    expect(acks.length).toBeGreaterThan(5);
    for (const a of acks) {
      expect(a.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(a.reason.length).toBeGreaterThan(20);
      expect(a.reason).not.toContain('\n');
    }
    // Wildcard resources are acknowledged per prefix, never as a blanket IAM5.
    expect(acks.filter((a) => a.id === 'AwsSolutions-IAM5')).toEqual([]);
  });
});
