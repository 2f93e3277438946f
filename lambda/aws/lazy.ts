import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { ObjectStore } from '../stores/store.ts';
import { S3Store } from '../stores/s3Store.ts';
import type { LogLevel } from './env.ts';
import { createLogger, type Logger } from './log.ts';
import { emfSink, type MetricsSink } from './metrics.ts';

/** What every handler is built around in Lambda: its environment, S3, a logger and the metrics sink. */
export interface LambdaEdges<Env> {
  env: Env;
  s3: S3Client;
  /** The store for a bucket, on the one S3 client. */
  store(bucket: string): ObjectStore;
  log: Logger;
  /** EMF on stdout when the stack named a namespace (POWERTOOLS_METRICS_NAMESPACE). */
  metrics?: MetricsSink;
}

type HandlerEnv = { POWERTOOLS_SERVICE_NAME: string; LOG_LEVEL: LogLevel; POWERTOOLS_METRICS_NAMESPACE?: string | undefined };

/**
 * A Lambda entry point whose handler is built on the first invocation and kept for the container's life, so
 * importing a handler module (tests, the local flow) reads no environment and opens no client. A build that
 * throws (a bad environment) fails that invocation and is tried again on the next. Each invocation's context
 * reaches the logger (request id, cold start on every line).
 *
 * @example
 * export const handler = lazyHandler(() => readEnv(FinalizeEnvSchema), (edges) => createFinalizeHandler(edges));
 */
export function lazyHandler<Env extends HandlerEnv, Event, Result>(
  readEnv: () => Env,
  build: (edges: LambdaEdges<Env>) => (event: Event, context?: Context) => Promise<Result>,
): (event: Event, context?: Context) => Promise<Result> {
  let built: ((event: Event, context?: Context) => Promise<Result>) | undefined;
  let log: ReturnType<typeof createLogger> | undefined;
  return async (event, context) => {
    if (!built) {
      const env = readEnv();
      const s3 = new S3Client({});
      log = createLogger({ service: env.POWERTOOLS_SERVICE_NAME, level: env.LOG_LEVEL });
      const namespace = env.POWERTOOLS_METRICS_NAMESPACE;
      built = build({
        env,
        s3,
        store: (bucket) => new S3Store(s3, bucket),
        log,
        ...(namespace ? { metrics: emfSink({ namespace, service: env.POWERTOOLS_SERVICE_NAME }) } : {}),
      });
    }
    if (context) log?.addContext(context);
    return built(event, context);
  };
}
