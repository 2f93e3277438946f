import type { Context } from 'aws-lambda';
import { isOutageFailure } from '../calls/send/outage.ts';
import { openPortalOrOffline, type PortalSession } from '../calls/session.ts';
import type { RunOptions } from '../config.ts';
import { runChunk } from '../run/chunk.ts';
import { haltIfOutageOutlasted, recordOutage } from '../run/outage.ts';
import { haltForFailure } from '../run/unsent.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import { progressGuard } from '../run/stallGuard.ts';
import type { RunState } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { chunkDeadline, ChunkEnvSchema, readEnv, type ChunkEnv } from './env.ts';
import { type CaughtError, describeCaught } from './caught.ts';
import { errorFields, type Logger, redactText } from './log.ts';
import { lazyHandler } from './lazy.ts';
import { needsHeader, readHeaderFirst } from './headerGuard.ts';
import { withHeader, withoutHeader } from './runHeader.ts';
import { chunkMetrics, type MetricsSink } from './metrics.ts';
import { rotatingPortal, type WebhookSource } from './rotation.ts';
import { webhookUrl } from './secret.ts';
import { beginSegment, DEFAULT_SEGMENT_LIMITS, endChunk, type SegmentLimits, segmentLimitsFromEnv } from './segment.ts';

export interface ChunkDeps {
  env: ChunkEnv;
  /** The store for a bucket: the source is read from `state.source.bucket`, parts go to BUCKET (default: the same). */
  store(bucket: string): ObjectStore;
  /**
   * The portal's webhook URL, when one is configured (Secrets Manager in Lambda, cached with a time to live);
   * `fresh` reads it again (the portal refused the cached one: rotated mid-run).
   */
  webhook: WebhookSource;
  /** Opens the portal session (lambda/calls/session.ts); injectable so tests can wrap the sender. */
  portal?: (webhookUrl: string, options: RunOptions) => Promise<PortalSession>;
  log: Logger;
  /** Where the chunk's metrics go (EMF in Lambda); none locally. */
  metrics?: MetricsSink;
  now?: () => number;
  /** When an execution hands the run on to a fresh one (default DEFAULT_SEGMENT_LIMITS). */
  segment?: SegmentLimits;
}

/** The Chunk state's input; `error` is set on the failure path (SkipRest: the chunk failed for good). */
export type ChunkEvent = RunState & { error?: CaughtError };

/**
 * Builds the worker around its edges. One call = one chunk: RunState in, the next RunState out. Around the
 * engine it keeps the state small (the header in S3), refuses an absurd header before anything is sent, and
 * counts this execution's chunks so a days-long run continues in a fresh execution (`continueAs`). Given the
 * caught `error` of a chunk that failed for good, it reads on from the checkpoint without the portal, every row
 * `skipped` RUN_FAILED, so the failed run's report still has a line per row; the error travels on to finalize.
 */
export function createChunkHandler(deps: ChunkDeps) {
  const now = deps.now ?? Date.now;
  const work = chunkWork(deps, now);
  return async (input: ChunkEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RunState> => {
    const output = deps.store(deps.env.BUCKET ?? input.source.bucket);
    const { error, ...run } = input;
    let state = await withHeader(beginSegment(run, now()), output);
    if (error) state = { ...state, checkpoint: haltForFailure(state.checkpoint, describeCaught(error)) };
    if (needsHeader(state)) state = (await readHeaderFirst(state, deps.store(state.source.bucket))) ?? state;
    const next = await withoutHeader(state.checkpoint.done ? state : await work(state, context), output);
    // Skipping the rest of a failed run stays in this execution (a few chunks at most: nothing is sent).
    if (error) return { ...next, error } as RunState;
    return endChunk(next, deps.segment ?? DEFAULT_SEGMENT_LIMITS, now());
  };
}

/** The engine's chunk with the portal session, the no-progress guard and the logs. */
function chunkWork(deps: ChunkDeps, now: () => number) {
  return async (input: RunState, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RunState> => {
    const started = now();
    const remaining = context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const deadline = chunkDeadline(started, remaining, deps.env);
    const log = deps.log.child({ runId: input.runId });
    const source = deps.store(input.source.bucket);
    const output = deps.store(deps.env.BUCKET ?? input.source.bucket);
    // Past the outage wait the run halts before the portal is tried again.
    const cp = structuredClone(input.checkpoint);
    haltIfOutageOutlasted(cp, input.options, started);
    const state = { ...input, checkpoint: cp };

    let session: PortalSession | undefined;
    try {
      // A halted run sends nothing: it needs no portal (which may be down or blocking it), only the file.
      session = cp.halted ? undefined : await openSession(deps, state, log);
    } catch (err) {
      if (isOutageFailure(err) && !state.options.dryRun) return waitForPortal(state, err, now(), log, deps.env.MAX_IDLE_CHUNKS);
      log.error('chunk could not open the portal', { offset: cp.offset, ...errorFields(err) });
      throw err;
    }

    log.info('chunk start', {
      offset: cp.offset,
      line: cp.line,
      part: cp.part,
      budgetMs: deadline - started,
      portal: session?.host,
    });
    try {
      const next = progressGuard(
        state,
        await runChunk(state, {
          source,
          output,
          // In a dry run the sender reads and plans but never writes (plan.csv previews the changes), as in the CLI.
          ...(session ? { sender: session.sender } : {}),
          catalogue: session?.catalogue ?? standardCatalogue(),
          deadline,
          now,
        }),
        deps.env.MAX_IDLE_CHUNKS,
      );
      logChunkDone(log, state, next, now() - started);
      deps.metrics?.(chunkMetrics(state.checkpoint, next.checkpoint), { runId: state.runId });
      return next;
    } catch (err) {
      log.error('chunk failed; the next attempt restarts from this checkpoint', { offset: cp.offset, ...errorFields(err) });
      throw err;
    }
  };
}

function openSession(deps: ChunkDeps, state: RunState, log: Logger): Promise<PortalSession | undefined> {
  return deps.webhook().then((url) =>
    openPortalOrOffline(url, state.options, {
      open: rotatingPortal(deps.portal, deps.webhook, log),
      // As the CLI does: a dry run validates offline against the built-in field list.
      onOffline: (err) => log.warn('could not open the portal; the dry run continues with the built-in field list', errorFields(err)),
      missingMessage: 'no portal webhook is configured (WEBHOOK_SECRET_ARN): only dry runs can run',
    }),
  );
}

/**
 * The portal is down at the chunk's start (refused connections, timeouts, 502/503/504 after the client's
 * retries): an outage, not a failed chunk. Nothing was read; the workflow waits (Wait state on
 * `checkpoint.waitUntilIso`) and tries again, until the run's outage wait is over.
 */
function waitForPortal(state: RunState, err: { code: string; message: string }, now: number, log: Logger, maxIdle: number): RunState {
  const cp = structuredClone(state.checkpoint);
  recordOutage(cp, { since: now, code: err.code, message: redactText(err.message) }, now);
  log.warn('the portal is unreachable; the run waits before its next chunk', {
    code: err.code,
    since: new Date(cp.unreachable!.since).toISOString(),
    until: cp.waitUntilIso,
  });
  return progressGuard(state, { ...state, checkpoint: cp }, maxIdle);
}

function logChunkDone(log: Logger, before: RunState, next: RunState, ms: number): void {
  const c = next.checkpoint;
  log.info('chunk done', {
    rows: c.rows - before.checkpoint.rows,
    totalRows: c.rows,
    offset: c.offset,
    done: c.done,
    ms,
    ...(c.refused ? { refused: c.refused.code } : {}),
    ...(c.halted ? { halted: c.halted.code } : {}),
    ...(c.cutShort ? { cutShort: c.cutShort.line } : {}),
    ...(c.unreachable ? { unreachableSince: new Date(c.unreachable.since).toISOString(), until: c.waitUntilIso } : {}),
  });
}

/** The Lambda entry point (Step Functions "Chunk" state, payloadResponseOnly: RunState → RunState). */
export const handler = lazyHandler(
  () => readEnv(ChunkEnvSchema),
  ({ env, store, log, metrics }) =>
    createChunkHandler({
      env,
      store,
      webhook: async (opts) => (env.WEBHOOK_SECRET_ARN ? webhookUrl(env.WEBHOOK_SECRET_ARN, undefined, opts) : undefined),
      log,
      ...(metrics ? { metrics } : {}),
      segment: segmentLimitsFromEnv(process.env),
    }),
);
