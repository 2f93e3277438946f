import type { Context } from 'aws-lambda';
import { openPortalOrOffline, type PortalSession } from '../calls/session.ts';
import type { RunOptions } from '../config.ts';
import { runChunk } from '../run/chunk.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import { progressGuard } from '../run/stallGuard.ts';
import type { RunState } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { chunkDeadline, ChunkEnvSchema, readEnv, type ChunkEnv } from './env.ts';
import { errorFields, type Logger } from './log.ts';
import { lazyHandler } from './lazy.ts';
import { needsHeader, readHeaderFirst } from './headerGuard.ts';
import { withHeader, withoutHeader } from './runHeader.ts';
import { webhookUrl } from './secret.ts';
import { beginSegment, DEFAULT_SEGMENT_LIMITS, endChunk, type SegmentLimits, segmentLimitsFromEnv } from './segment.ts';

export interface ChunkDeps {
  env: ChunkEnv;
  /** The store for a bucket: the source is read from `state.source.bucket`, parts go to BUCKET (default: the same). */
  store(bucket: string): ObjectStore;
  /** The portal's webhook URL, when one is configured (Secrets Manager in Lambda). */
  webhook(): Promise<string | undefined>;
  /** Opens the portal session (lambda/calls/session.ts); injectable so tests can wrap the sender. */
  portal?: (webhookUrl: string, options: RunOptions) => Promise<PortalSession>;
  log: Logger;
  now?: () => number;
  /** When an execution hands the run on to a fresh one (default DEFAULT_SEGMENT_LIMITS). */
  segment?: SegmentLimits;
}

/**
 * Builds the worker around its edges. One call = one chunk: RunState in, the next RunState out. Around the
 * engine it keeps the state small (the header in S3), refuses an absurd header before anything is sent, and
 * counts this execution's chunks so a days-long run continues in a fresh execution (`continueAs`).
 */
export function createChunkHandler(deps: ChunkDeps) {
  const now = deps.now ?? Date.now;
  const work = chunkWork(deps, now);
  return async (input: RunState, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RunState> => {
    const output = deps.store(deps.env.BUCKET ?? input.source.bucket);
    let state = await withHeader(beginSegment(input, now()), output);
    if (needsHeader(state)) state = (await readHeaderFirst(state, deps.store(state.source.bucket))) ?? state;
    const next = state.checkpoint.done ? state : await work(state, context);
    return endChunk(await withoutHeader(next, output), deps.segment ?? DEFAULT_SEGMENT_LIMITS, now());
  };
}

/** The engine's chunk with the portal session, the no-progress guard and the logs. */
function chunkWork(deps: ChunkDeps, now: () => number) {
  return async (state: RunState, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RunState> => {
    const started = now();
    const remaining = context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const deadline = chunkDeadline(started, remaining, deps.env);
    const log = deps.log.child({ runId: state.runId });
    const source = deps.store(state.source.bucket);
    const output = deps.store(deps.env.BUCKET ?? state.source.bucket);

    let session: PortalSession | undefined;
    try {
      session = await openPortalOrOffline(await deps.webhook(), state.options, {
        open: deps.portal,
        // As the CLI does: a dry run validates offline against the built-in field list.
        onOffline: (err) => log.warn('could not open the portal; the dry run continues with the built-in field list', errorFields(err)),
        missingMessage: 'no portal webhook is configured (WEBHOOK_SECRET_ARN): only dry runs can run',
      });
    } catch (err) {
      log.error('chunk could not open the portal', { offset: state.checkpoint.offset, ...errorFields(err) });
      throw err;
    }

    log.info('chunk start', {
      offset: state.checkpoint.offset,
      line: state.checkpoint.line,
      part: state.checkpoint.part,
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
      const c = next.checkpoint;
      log.info('chunk done', {
        rows: c.rows - state.checkpoint.rows,
        totalRows: c.rows,
        offset: c.offset,
        done: c.done,
        ms: now() - started,
        ...(c.refused ? { refused: c.refused.code } : {}),
        ...(c.halted ? { halted: c.halted.code } : {}),
        ...(c.cutShort ? { cutShort: c.cutShort.line } : {}),
      });
      return next;
    } catch (err) {
      log.error('chunk failed; the next attempt restarts from this checkpoint', { offset: state.checkpoint.offset, ...errorFields(err) });
      throw err;
    }
  };
}

/** The Lambda entry point (Step Functions "Chunk" state, payloadResponseOnly: RunState → RunState). */
export const handler = lazyHandler(
  () => readEnv(ChunkEnvSchema),
  ({ env, store, log }) =>
    createChunkHandler({
      env,
      store,
      webhook: async () => (env.WEBHOOK_SECRET_ARN ? webhookUrl(env.WEBHOOK_SECRET_ARN) : undefined),
      log,
      segment: segmentLimitsFromEnv(process.env),
    }),
);
