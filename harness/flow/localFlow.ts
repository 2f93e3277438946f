import type { S3Client } from '@aws-sdk/client-s3';
import { createChunkHandler, type ChunkDeps } from '../../lambda/aws/chunkHandler.ts';
import { ChunkEnvSchema, FinalizeEnvSchema, readEnv, StartEnvSchema } from '../../lambda/aws/env.ts';
import { createFinalizeHandler, type FinalizeDeps } from '../../lambda/aws/finalizeHandler.ts';
import { createLogger, type Logger } from '../../lambda/aws/log.ts';
import { segmentLimitsFromEnv } from '../../lambda/aws/segment.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { createStartHandler, type StartEvent, type StartResult } from '../../lambda/aws/startHandler.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import { LocalStateMachine, type LocalExecution } from './stateMachine.ts';

export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:b24-lead-import-local';

export interface LocalFlowOptions {
  client: S3Client;
  /** Where parts and reports go (the deployment's BUCKET); default: the source object's bucket. */
  bucket?: string;
  /** The portal; without it only dry runs are possible (as in Lambda without the secret). */
  webhookUrl?: string;
  /** The handlers' environment (PORTAL_RATE, CHUNK_BUDGET_MS, LOG_LEVEL…), validated by the same schemas. */
  env?: Record<string, string | undefined>;
  /** Each chunk invocation's Lambda timeout (the context's remaining time). */
  chunkTimeoutMs?: number;
  log?: Logger;
  /** Test seams: the portal session and the stores as the chunk sees them (e.g. a worker that dies mid-chunk). */
  portal?: ChunkDeps['portal'];
  wrapStore?: (store: ObjectStore, step: 'start' | 'chunk' | 'finalize') => ObjectStore;
  onChunk?: (state: RunState, execution: LocalExecution) => void;
  /** The chunk's clock (tests: a clock that ticks per call makes the time budget deterministic); also the execution timeout's. */
  now?: () => number;
  /** The Wait state on the test's clock (see LocalStateMachineOptions.wait); default a timer. */
  wait?: (until: number) => Promise<void>;
  /** The worker's reserved concurrency (concurrent chunks beyond it are throttled), as deployed: default 1. */
  workerConcurrency?: number;
  /** Where finalize sends the run's end (local edges for EventBridge and SNS, and the links' signer); default none. */
  runEnd?: Pick<FinalizeDeps, 'events' | 'mail' | 'sign'>;
}

export interface LocalFlow {
  /** The start handler, as S3 or a manual invocation calls it. */
  start(event: StartEvent): Promise<StartResult>;
  stateMachine: LocalStateMachine;
  /** The run a start reported (queued or started), settled: its summary, through every execution it continued in. */
  summaryOf(executionName: string): Promise<Summary>;
}

/**
 * The three Lambda handlers wired to local edges: the same code paths as in AWS, with the state machine the CDK
 * synthesises from infra/workflow.ts executed by LocalStateMachine. Used by `npm start` and the tests.
 */
export function createLocalFlow(options: LocalFlowOptions): LocalFlow {
  const env = { LOG_LEVEL: 'WARN', ...options.env, STATE_MACHINE_ARN: LOCAL_STATE_MACHINE_ARN, BUCKET: options.bucket };
  const log = options.log ?? createLogger({ service: 'b24-lead-import', level: readEnv(FinalizeEnvSchema, env).LOG_LEVEL });
  const wrap = options.wrapStore ?? ((store: ObjectStore) => store);
  const storeFor = (step: 'start' | 'chunk' | 'finalize') => (bucket: string) => wrap(new S3Store(options.client, bucket), step);

  const chunk = createChunkHandler({
    env: readEnv(ChunkEnvSchema, env),
    store: storeFor('chunk'),
    webhook: async () => options.webhookUrl,
    ...(options.portal ? { portal: options.portal } : {}),
    ...(options.now ? { now: options.now } : {}),
    segment: segmentLimitsFromEnv(env),
    log,
  });
  const finalize = createFinalizeHandler({ env: readEnv(FinalizeEnvSchema, env), store: storeFor('finalize'), log, ...options.runEnd });
  const stateMachine = new LocalStateMachine({
    chunk,
    finalize,
    ...(options.chunkTimeoutMs !== undefined ? { chunkTimeoutMs: options.chunkTimeoutMs } : {}),
    ...(options.onChunk ? { onChunk: options.onChunk } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.wait ? { wait: options.wait } : {}),
    chunkConcurrency: options.workerConcurrency ?? 1,
    // EventBridge's "Execution Status Change" → start: the queue moves on to the next upload.
    onEnd: async () => void (await start({ dispatch: true })),
  });
  const start = createStartHandler({
    env: readEnv(StartEnvSchema, env),
    store: storeFor('start'),
    sfn: stateMachine,
    log,
    ...(options.bucket ? { queueBucket: options.bucket } : {}),
  });

  return {
    start: (event) => start(event),
    stateMachine,
    summaryOf: (name) => stateMachine.summaryOf(name),
  };
}
