import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, S3Event } from 'aws-lambda';
import { ZodError } from 'zod';
import type { RunOptions } from '../config.ts';
import { UsageError } from '../errors.ts';
import { OPTIONS_METADATA_KEY, objectOptionsInput } from '../options/objectOptions.ts';
import { flagIssue } from '../options/readFlags.ts';
import { executionNameFor, INCOMING, partsPrefixFor, reportPrefixFor } from '../run/keys.ts';
import { newRunState, runIdFor } from '../run/newRun.ts';
import type { RunState } from '../run/state.ts';
import { S3Store } from '../stores/s3Store.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';
import { readEnv, StartEnvSchema, type StartEnv } from './env.ts';
import { errorFields, type Logger } from './log.ts';
import { lazyHandler } from './lazy.ts';
import { dispatch, enqueue, type QueueDeps, serialized } from './runQueue.ts';
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

/** An execution ended (EventBridge "Step Functions Execution Status Change"), or a poke: the queue moves on. */
export interface DispatchEvent {
  source?: 'aws.states' | string;
  'detail-type'?: string;
  detail?: { name?: string; status?: string };
  dispatch?: true;
}

export type StartEvent = S3Event | ManualStart | DispatchEvent;

export interface StartedRun {
  bucket: string;
  key: string;
  /** `queued`: it runs when the runs uploaded before it are done (the deployment runs one at a time). */
  status: 'started' | 'queued' | 'duplicate' | 'ignored';
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
  /** By execution name (of STATE_MACHINE_ARN); throws ExecutionDoesNotExist for an unknown one. */
  describeExecution(input: { name: string }): Promise<{ status?: string }>;
}

export interface StartDeps {
  env: StartEnv;
  /** The store for a bucket (head only). */
  store(bucket: string): ObjectStore;
  sfn: ExecutionStarter;
  log: Logger;
  /** Where the run queue lives (the deployment's BUCKET); default: the bucket the event names. */
  queueBucket?: string;
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
  size?: number;
  /** The event's order among the events of this key, and its time (the queue's order). */
  sequencer?: string;
  eventTime?: string;
  manual?: { dryRun?: boolean; options?: unknown; runTag?: string };
  /** Why this record cannot be a run (a malformed key escape): reported, the event's other records still run. */
  invalid?: string;
}

/** S3 event keys are URL-encoded, form style ('+' for spaces). */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** An event record's key decoded, or why it cannot be (a malformed %-escape must not fail the other records). */
function recordKey(raw: string): { key: string; invalid?: string } {
  try {
    return { key: decodeEventKey(raw) };
  } catch {
    return { key: raw, invalid: 'the key in the S3 event is not valid URL encoding' };
  }
}

/** The objects an event names: every ObjectCreated record, or the manual payload. */
export function startTargets(event: StartEvent): StartTarget[] {
  if ('Records' in event && Array.isArray(event.Records)) {
    return event.Records.filter((r) => r.eventName?.startsWith('ObjectCreated')).map((r) => {
      const { key, invalid } = recordKey(r.s3.object.key);
      const o = r.s3.object;
      return {
        bucket: r.s3.bucket.name,
        key,
        ...(o.versionId ? { versionId: o.versionId } : {}),
        ...(o.eTag ? { etag: o.eTag } : {}),
        ...(invalid ? { invalid } : {}),
        ...(typeof o.size === 'number' && o.versionId ? { size: o.size } : {}),
        ...(o.sequencer ? { sequencer: String(o.sequencer) } : {}),
        ...(r.eventTime ? { eventTime: r.eventTime } : {}),
      };
    });
  }
  if (isDispatch(event)) return [];
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

/** An execution's end (EventBridge) or `{ "dispatch": true }`: names no object, only moves the queue on. */
export function isDispatch(event: StartEvent): event is DispatchEvent {
  const e = event as DispatchEvent;
  return e.dispatch === true || e.source === 'aws.states';
}

/**
 * What the run id is made of besides bucket and key: the object version, then ':dry-run' for a dry run (so a
 * dry run never blocks the real run of the same version) and ':tag:<runTag>' for a deliberate re-run. A real
 * run without a tag hashes the version alone, so its id is the same as before these suffixes existed, and
 * duplicate deliveries of one event still map to one run.
 */
export function runVersionKey(version: string, variant: { dryRun: boolean; runTag?: string }): string {
  return `${version}${variant.dryRun ? ':dry-run' : ''}${variant.runTag !== undefined ? `:tag:${variant.runTag}` : ''}`;
}

/** Why a key is not a run's input (undefined = it is): a CSV, or an .xlsx workbook (its first sheet is read). */
export function ignoreReason(key: string): string | undefined {
  if (!key.startsWith(INCOMING)) return `outside ${INCOMING}`;
  if (!/\.(csv|xlsx)$/i.test(key)) return 'not a .csv or .xlsx file';
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

/**
 * Pins one target and queues its run (the queue starts it when the runs before it are done). Duplicate
 * deliveries (same version, same dry-run flag, same tag) map to the same run and stop there.
 */
export async function startOne(target: StartTarget, deps: StartDeps): Promise<StartedRun> {
  const { bucket, key } = target;
  const skip = target.invalid ?? ignoreReason(key);
  if (skip) {
    deps.log.info('ignored object', { bucket, key, reason: skip });
    return { bucket, key, status: 'ignored', reason: skip };
  }
  // A manual payload's own options are checked before anything is read: a bad payload fails the call, as before.
  runOptionsFor(deps.env, target.manual, target.manual ? bucket : undefined);
  const pinned = await pinTarget(target, deps);
  const metadata = typeof pinned === 'string' ? pinned : await objectMetadata(deps.store(bucket), pinned);
  if (typeof pinned === 'string' || typeof metadata === 'string') {
    const reason = typeof pinned === 'string' ? pinned : (metadata as string);
    deps.log.info('ignored object', { bucket, key, reason });
    return { bucket, key, status: 'ignored', reason };
  }
  const { options, refused } = await fileRunOptions(deps.env, target.manual, metadata);
  const runTag = target.manual?.runTag;
  const runId = runIdFor(
    bucket,
    key,
    runVersionKey(versionOf(target, pinned), { dryRun: options.dryRun, ...(runTag !== undefined ? { runTag } : {}) }),
  );
  const state: RunState = newRunState({
    runId,
    source: { bucket, ...pinned },
    reportPrefix: reportPrefixFor(key, runId),
    partsPrefix: partsPrefixFor(runId),
    options,
    ...(refused ? { refused } : {}),
  });
  const name = executionNameFor(runId);
  const log = deps.log.child({ runId });
  const facts = { bucket, key, executionName: name, dryRun: options.dryRun, ...(runTag !== undefined ? { runTag } : {}) };
  // A refused file still runs through the workflow (nothing read, nothing sent): finalize writes its summary and reports.
  const why = refused ? { reason: `${refused.code}: ${refused.message}` } : {};
  if (refused) log.warn('the file is refused', { ...facts, code: refused.code, message: refused.message });
  if (await executionExists(deps.sfn, name)) {
    log.info('run already started for this object version', facts);
    return { bucket, key, status: 'duplicate', runId, executionName: name, ...why };
  }
  const entry = { runId, name, bucket, key, ...(target.sequencer ? { sequencer: target.sequencer } : {}), input: state };
  if (!(await enqueue(queueDeps(deps, bucket), entry, target.eventTime ?? state.startedAt))) {
    log.info('run already queued for this object version', facts);
    return { bucket, key, status: 'duplicate', runId, executionName: name, ...why };
  }
  log.info('run queued', { ...facts, size: pinned.size });
  return { bucket, key, status: 'queued', runId, executionName: name, ...why };
}

/** A whole file refused before it is read (its own options are invalid). */
export interface StartRefusal {
  code: 'INVALID_OPTIONS';
  message: string;
}

/**
 * The run's options: the deployment's, then the file's own (metadata `b24-options`, read by the CLI's flag
 * table), then a manual payload's, which win; bounded by the deployment exactly as a manual payload is
 * (overrides.ts: limits may only tighten, a dry-run deployment stays dry). Options the file's metadata gets
 * wrong refuse the file with the flag named (the deployment's options then stand in, so the refusal can be
 * reported); anything else wrong is thrown.
 */
export async function fileRunOptions(
  env: StartEnv,
  manual: StartTarget['manual'],
  metadata: Record<string, string> | undefined,
): Promise<{ options: RunOptions; refused?: StartRefusal }> {
  const fallback = () => runOptionsFor(env, manual);
  try {
    const own = await objectOptionsInput(metadata);
    if (Object.keys(own).length === 0) return { options: fallback() };
    return { options: runOptionsFor(env, { ...manual, options: layered(own, manual?.options) }) };
  } catch (err) {
    const reason = err instanceof ZodError ? flagIssue(err) : err instanceof UsageError ? err.message : undefined;
    if (reason === undefined) throw err;
    const message = `the file's options (metadata ${OPTIONS_METADATA_KEY}) are refused: ${reason}`;
    return { options: fallback(), refused: { code: 'INVALID_OPTIONS', message } };
  }
}

/** `over` on top of `under`, the nested limits and input key by key (as manualRunOptions merges over the deployment). */
function layered(under: Record<string, unknown>, over: unknown): Record<string, unknown> {
  const top = (over ?? {}) as Record<string, unknown>;
  const nested = (name: 'limits' | 'input') =>
    under[name] === undefined && top[name] === undefined ? {} : { [name]: { ...(under[name] as object), ...(top[name] as object) } };
  return { ...under, ...top, ...nested('limits'), ...nested('input') };
}

/**
 * The pinned version's user metadata (HeadObject: S3 events carry none), or why it is not this event's to run
 * (an unversioned object replaced since). Only S3 objects carry metadata; another store's objects have none.
 */
async function objectMetadata(store: ObjectStore, pinned: ObjectInfo): Promise<Record<string, string> | undefined | string> {
  if (!(store instanceof S3Store)) return undefined;
  const res = await store.client.send(
    new HeadObjectCommand({ Bucket: store.bucket, Key: pinned.key, ...(pinned.versionId ? { VersionId: pinned.versionId } : {}) }),
  );
  // Unversioned: the object's metadata now. Another upload since the pin has its own event and run.
  if (!pinned.versionId && pinned.etag && res.ETag && unquote(res.ETag) !== unquote(pinned.etag)) return 'replaced since the event';
  return res.Metadata;
}

/**
 * The object version the run reads. An event with a versionId names its version, size and ETag: pinned as is
 * (a HeadObject would see a later upload and fail the run with OBJECT_CHANGED). Otherwise HeadObject; in an
 * unversioned bucket an object replaced since its event is not this event's to run (a string: why).
 */
async function pinTarget(target: StartTarget, deps: StartDeps): Promise<ObjectInfo | string> {
  const { key } = target;
  if (target.versionId && target.size !== undefined) {
    return { key, size: target.size, versionId: target.versionId, ...(target.etag ? { etag: unquote(target.etag) } : {}) };
  }
  const info: ObjectInfo = await deps.store(target.bucket).head(key);
  if (target.etag && info.etag && !target.versionId && unquote(target.etag) !== unquote(info.etag)) {
    // Unversioned bucket, object replaced since this event: the newer upload has its own event and run.
    return 'replaced since the event';
  }
  return { ...info, ...(target.versionId ? { versionId: target.versionId } : {}) };
}

/**
 * What identifies the upload: its version; in an unversioned bucket the event's sequencer (an identical
 * re-upload has the same ETag but is a new upload; the same event delivered twice has the same sequencer);
 * for a manual start, the ETag.
 */
function versionOf(target: StartTarget, pinned: ObjectInfo): string {
  if (pinned.versionId) return pinned.versionId;
  if (target.sequencer) return `${pinned.etag ?? ''}:seq:${target.sequencer}`;
  return pinned.etag ?? '';
}

async function executionExists(sfn: ExecutionStarter, name: string): Promise<boolean> {
  try {
    await sfn.describeExecution({ name });
    return true;
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return false;
    throw err;
  }
}

function queueDeps(deps: StartDeps, bucket: string): QueueDeps {
  return { store: deps.store(deps.queueBucket ?? bucket), sfn: deps.sfn, stateMachineArn: deps.env.STATE_MACHINE_ARN, log: deps.log };
}

/**
 * Builds the handler around its edges (the Lambda wires the real clients below; tests and `npm start` wire local
 * ones). Each event queues its runs, then moves the queue on; calls never overlap (one dispatcher at a time).
 */
export function createStartHandler(deps: StartDeps) {
  // Without a configured queue bucket (local runs), the queues are in the buckets events named so far.
  const queues = new Set<string>(deps.queueBucket ? [deps.queueBucket] : []);
  return serialized(async (event: StartEvent, _context?: Context): Promise<StartResult> => {
    const runs: StartedRun[] = [];
    for (const target of startTargets(event)) runs.push(await startOne(target, deps));
    const buckets = deps.queueBucket ? queues : new Set([...queues, ...runs.filter((r) => r.status !== 'ignored').map((r) => r.bucket)]);
    for (const b of buckets) queues.add(b);
    let active: string | undefined;
    for (const bucket of buckets) {
      try {
        active = (await dispatch(queueDeps(deps, bucket))) ?? active;
      } catch (err) {
        // The runs stay queued: the next event (or the 15-minute tick) starts them.
        deps.log.error('could not start the next queued run', { bucket, ...errorFields(err) });
        throw err;
      }
    }
    return { runs: runs.map((r) => (r.status === 'queued' && r.runId === active ? { ...r, status: 'started' } : r)) };
  });
}

/** The Lambda entry point: S3 ObjectCreated event for incoming/**.csv or .xlsx, or a manual backfill payload. */
export const handler = lazyHandler(
  () => readEnv(StartEnvSchema),
  ({ env, store, log }) => {
    const sfn = new SFNClient({});
    // Executions are named under the state machine: arn:…:stateMachine:<sm> → arn:…:execution:<sm>:<name>.
    const executionArn = (name: string) => `${env.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    return createStartHandler({
      env,
      store,
      sfn: {
        startExecution: (input) => sfn.send(new StartExecutionCommand(input)),
        describeExecution: ({ name }) => sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(name) })),
      },
      log,
      ...(process.env.BUCKET ? { queueBucket: process.env.BUCKET } : {}),
    });
  },
);
