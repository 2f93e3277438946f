import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, S3Event } from 'aws-lambda';
import type { RunOptions } from '../config.ts';
import { executionNameFor, INCOMING, partsPrefixFor, reportPrefixFor } from '../run/keys.ts';
import { newRunState, runIdFor } from '../run/newRun.ts';
import type { RunState } from '../run/state.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';
import { readEnv, StartEnvSchema, type StartEnv } from './env.ts';
import { errorFields, type Logger } from './log.ts';
import { lazyHandler } from './lazy.ts';
import { manualRunOptions } from './overrides.ts';

/** A manual backfill: start a run on an object already in the bucket (`key` as stored, not URL-encoded). */
export interface ManualStart {
  bucket: string;
  key: string;
  dryRun?: boolean;
  options?: unknown;
  /**
   * Forces a fresh run of a version that already ran (the tag becomes part of the run id): e.g. "retry-2".
   * Without it, a start of the same version (same dry-run flag) is a duplicate.
   */
  runTag?: string;
}

export type StartEvent = S3Event | ManualStart;

export interface StartedRun {
  bucket: string;
  key: string;
  status: 'started' | 'duplicate' | 'ignored';
  runId?: string;
  executionName?: string;
  reason?: string;
}

/** What start reports for each object it was given. */
export interface StartResult {
  runs: StartedRun[];
}

/** The narrow Step Functions edge (SFNClient in Lambda, the local state machine in tests and `npm start`). */
export interface ExecutionStarter {
  startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn?: string }>;
}

export interface StartDeps {
  env: StartEnv;
  /** The store for a bucket (head only). */
  store(bucket: string): ObjectStore;
  sfn: ExecutionStarter;
  log: Logger;
}

// The key helpers live in run/keys.ts (the CLI names the same keys); kept exported here for existing importers.
export { executionNameFor, INCOMING, partsPrefixFor, reportPrefixFor };

/** One object a start event names, before it is checked. */
export interface StartTarget {
  bucket: string;
  key: string;
  /** From the S3 event: the version/ETag that was created (a later upload has its own event). */
  versionId?: string;
  etag?: string;
  manual?: { dryRun?: boolean; options?: unknown; runTag?: string };
}

/** S3 event keys are URL-encoded, form style ('+' for spaces). */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The objects an event names: every ObjectCreated record, or the manual payload. */
export function startTargets(event: StartEvent): StartTarget[] {
  if ('Records' in event && Array.isArray(event.Records)) {
    return event.Records.filter((r) => r.eventName?.startsWith('ObjectCreated')).map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeEventKey(r.s3.object.key),
      ...(r.s3.object.versionId ? { versionId: r.s3.object.versionId } : {}),
      ...(r.s3.object.eTag ? { etag: r.s3.object.eTag } : {}),
    }));
  }
  const manual = event as ManualStart;
  if (typeof manual.bucket !== 'string' || typeof manual.key !== 'string' || !manual.bucket || !manual.key) {
    throw new Error('start: expected an S3 event or { "bucket", "key", "dryRun"?, "options"?, "runTag"? }');
  }
  const { runTag } = manual;
  if (runTag !== undefined && (typeof runTag !== 'string' || !RUN_TAG.test(runTag))) {
    throw new Error('start: "runTag" must be 1–64 characters of letters, digits, ".", "_" or "-"');
  }
  return [
    {
      bucket: manual.bucket,
      key: manual.key,
      manual: { dryRun: manual.dryRun, options: manual.options, ...(runTag !== undefined ? { runTag } : {}) },
    },
  ];
}

const RUN_TAG = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * What the run id is made of besides bucket and key: the object version, then ':dry-run' for a dry run (so a
 * dry run never blocks the real run of the same version) and ':tag:<runTag>' for a deliberate re-run. A real
 * run without a tag hashes the version alone, so its id is the same as before these suffixes existed, and
 * duplicate deliveries of one event still map to one run.
 */
export function runVersionKey(version: string, variant: { dryRun: boolean; runTag?: string }): string {
  return `${version}${variant.dryRun ? ':dry-run' : ''}${variant.runTag !== undefined ? `:tag:${variant.runTag}` : ''}`;
}

/** Why a key is not a run's input (undefined = it is). */
export function ignoreReason(key: string): string | undefined {
  if (!key.startsWith(INCOMING)) return `outside ${INCOMING}`;
  if (!key.toLowerCase().endsWith('.csv')) return 'not a .csv file';
  return undefined;
}

/**
 * Env defaults, then the manual payload's options, then its dryRun flag; validated once, and only ever as tight
 * as the deployment (overrides.ts). A manual payload's `bucket` must be the deployment's.
 */
export function runOptionsFor(env: StartEnv, manual?: StartTarget['manual'], manualBucket?: string): RunOptions {
  return manualRunOptions(env, manual, manualBucket);
}

const unquote = (etag: string) => etag.replace(/^W\//, '').replace(/"/g, '');

/** Heads, pins and starts one target. Duplicate deliveries (same version, same dry-run flag, same tag) map to the same execution name and stop there. */
export async function startOne(target: StartTarget, deps: StartDeps): Promise<StartedRun> {
  const { bucket, key } = target;
  const skip = ignoreReason(key);
  if (skip) {
    deps.log.info('ignored object', { bucket, key, reason: skip });
    return { bucket, key, status: 'ignored', reason: skip };
  }
  const options = runOptionsFor(deps.env, target.manual, target.manual ? bucket : undefined);
  const info: ObjectInfo = await deps.store(bucket).head(key);
  if (target.etag && info.etag && !target.versionId && unquote(target.etag) !== unquote(info.etag)) {
    // Unversioned bucket, object replaced since this event: the newer upload has its own event and run.
    const reason = 'replaced since the event';
    deps.log.info('ignored object', { bucket, key, reason });
    return { bucket, key, status: 'ignored', reason };
  }
  const pinned: ObjectInfo = { ...info, ...(target.versionId ? { versionId: target.versionId } : {}) };
  const runTag = target.manual?.runTag;
  const runId = runIdFor(
    bucket,
    key,
    runVersionKey(pinned.versionId ?? pinned.etag ?? '', { dryRun: options.dryRun, ...(runTag !== undefined ? { runTag } : {}) }),
  );
  const state: RunState = newRunState({
    runId,
    source: { bucket, ...pinned },
    reportPrefix: reportPrefixFor(key, runId),
    partsPrefix: partsPrefixFor(runId),
    options,
  });
  const name = executionNameFor(runId);
  const log = deps.log.child({ runId });
  try {
    await deps.sfn.startExecution({ stateMachineArn: deps.env.STATE_MACHINE_ARN, name, input: JSON.stringify(state) });
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists) {
      log.info('run already started for this object version', {
        bucket,
        key,
        executionName: name,
        dryRun: options.dryRun,
        ...(runTag !== undefined ? { runTag } : {}),
      });
      return { bucket, key, status: 'duplicate', runId, executionName: name };
    }
    log.error('could not start the run', { bucket, key, ...errorFields(err) });
    throw err;
  }
  log.info('run started', {
    bucket,
    key,
    size: pinned.size,
    executionName: name,
    dryRun: options.dryRun,
    ...(runTag !== undefined ? { runTag } : {}),
  });
  return { bucket, key, status: 'started', runId, executionName: name };
}

/** Builds the handler around its edges (the Lambda wires the real clients below; tests and `npm start` wire local ones). */
export function createStartHandler(deps: StartDeps) {
  return async (event: StartEvent, _context?: Context): Promise<StartResult> => {
    const runs: StartedRun[] = [];
    for (const target of startTargets(event)) runs.push(await startOne(target, deps));
    return { runs };
  };
}

/** The Lambda entry point: S3 ObjectCreated event for incoming/**.csv, or a manual backfill payload. */
export const handler = lazyHandler(
  () => readEnv(StartEnvSchema),
  ({ env, store, log }) => {
    const sfn = new SFNClient({});
    return createStartHandler({ env, store, sfn: { startExecution: (input) => sfn.send(new StartExecutionCommand(input)) }, log });
  },
);
