import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { finalizeRun } from '../report/finalize.ts';
import type { RunState, Summary } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { FinalizeEnvSchema, readEnv, type FinalizeEnv } from './env.ts';
import { type CaughtError, describeCaught } from './caught.ts';
import type { Logger } from './log.ts';
import { lazyHandler } from './lazy.ts';
import { type MetricsSink, runMetrics } from './metrics.ts';
import { keyedLinkSigner } from './presign.ts';
import { type EventPublisher, type LinkSigner, publishRunEnd } from './runEnd.ts';
import type { MessagePublisher, RunMail } from './runMail.ts';
import { withHeader } from './runHeader.ts';

export { type CaughtError, describeCaught } from './caught.ts';

/** Finalize's input: the last RunState, plus the caught error when the chunk loop failed. */
export type FinalizeEvent = RunState & { error?: CaughtError };

export interface FinalizeDeps {
  env: FinalizeEnv;
  store(bucket: string): ObjectStore;
  log: Logger;
  /** Where the run's FailedRowShare goes (EMF in Lambda); none locally. */
  metrics?: MetricsSink;
  /** The run's end event (EventBridge, default bus); none locally. */
  events?: EventPublisher;
  /** The run's end mailed (SNS Publish to the notify topic); none without notifyEmail. */
  mail?: RunMail;
  /** Pre-signs the message's links to report.html and rejected.csv. */
  sign?: LinkSigner;
  /**
   * The run's signer, chosen once per run with the run's logger (Lambda: keyedLinkSigner, the signer's key or the
   * role); wins over `sign`. Must not throw.
   */
  signer?: (log: Logger) => Promise<LinkSigner>;
}

/** Builds the finalize step around its store. */
export function createFinalizeHandler(deps: FinalizeDeps) {
  return async (event: FinalizeEvent, _context?: Context): Promise<Summary> => {
    const { error, continueAs: _c, segment: _s, ...stored } = event;
    const log = deps.log.child({ runId: stored.runId });
    const bucket = deps.env.BUCKET ?? stored.source.bucket;
    const output = deps.store(bucket);
    // rejected.csv starts with the header kept in S3 (gone only when an earlier finalize already finished).
    const state = await withHeader(stored, output, { missingOk: true });
    const summary = await finalizeRun(state, output, error ? { error: describeCaught(error) } : {});
    log.info('run finalized', {
      rows: summary.rows,
      counts: summary.counts,
      complete: summary.complete,
      dryRun: summary.dryRun,
      report: summary.report.report,
      ...(error ? { failedChunk: describeCaught(error).code } : {}),
    });
    deps.metrics?.(runMetrics(summary), { runId: summary.runId });
    if (deps.events || deps.mail) {
      const { events, mail } = deps;
      const sign = deps.signer ? await deps.signer(log) : deps.sign;
      await publishRunEnd(summary, bucket, { ...(events ? { events } : {}), ...(mail ? { mail } : {}), ...(sign ? { sign } : {}), log });
    }
    return summary;
  };
}

/** The Lambda entry point (Step Functions "Finalize" states: RunState [+ error] → Summary). */
export const handler = lazyHandler(
  () => readEnv(FinalizeEnvSchema),
  ({ env, s3, store, log, metrics }) => {
    const eventBridge = new EventBridgeClient({});
    return createFinalizeHandler({
      env,
      store,
      log,
      ...(metrics ? { metrics } : {}),
      events: { putEvents: (entries) => eventBridge.send(new PutEventsCommand({ Entries: entries })) },
      ...(env.NOTIFY_TOPIC_ARN ? { mail: { sns: snsEdge(), topicArn: env.NOTIFY_TOPIC_ARN } } : {}),
      signer: keyedLinkSigner({ s3, ...(env.LINK_SIGNER_SECRET_ARN ? { secretArn: env.LINK_SIGNER_SECRET_ARN } : {}) }),
    });
  },
);

/** SNSClient's Publish as the narrow edge. */
function snsEdge(): MessagePublisher {
  const sns = new SNSClient({});
  return { publish: (input) => sns.send(new PublishCommand(input)) };
}
