import { Readable } from 'node:stream';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context, S3Event } from 'aws-lambda';
import { ZodError } from 'zod';
import type { RunOptions } from '../config.ts';
import { UsageError } from '../errors.ts';
import { OPTIONS_METADATA_KEY, objectOptionsInput } from '../options/objectOptions.ts';
import { flagIssue } from '../options/readFlags.ts';
import {
  executionNameFor,
  INCOMING,
  partsPrefixFor,
  type RunPrefix,
  reportPrefixFor,
  runOfReportPrefix,
  undoInputKeyFor,
} from '../run/keys.ts';
import { newRunState, runIdFor } from '../run/newRun.ts';
import type { RunState } from '../run/state.ts';
import { S3Store } from '../stores/s3Store.ts';
import { readRunLog } from '../undo/runLog.ts';
import { UNDO_RUN_OPTIONS, type UndoInput, undoInput } from '../undo/undoInput.ts';
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

/**
 * An undo of a run in the deployment's bucket: `undo` names the run's report folder, `reports/<file>/<runId>/`.
 * Start reads its change log (changes.jsonl), writes the undo's input to `undo/<file>/<runId>.csv` (outside
 * incoming/: it starts nothing by itself) and queues the undo as a run on it, reporting under
 * `reports/<file>-undo/<undo's runId>/`. The same undo again is a duplicate unless `runTag`.
 */
export interface UndoStart {
  undo: string;
  /** Default: the deployment's BUCKET; another is refused, as for a manual start. */
  bucket?: string;
  dryRun?: boolean;
  options?: unknown;
  runTag?: string;
}

export type StartEvent = S3Event | ManualStart | UndoStart | DispatchEvent;

export interface StartedRun {
  bucket: string;
  key: string;
  /** `queued`: it runs when the runs uploaded before it are done (the deployment runs one at a time). */
  status: 'started' | 'queued' | 'duplicate' | 'ignored';
  runId?: string;
  executionName?: string;
  /** Where the run reports (reports/…/<runId>/). */
  reportPrefix?: string;
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
  /** An undo: the report folder of the run it takes back (then `key` is the undo's input, written by start). */
  undo?: RunPrefix;
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

/**
 * The objects an event names: every ObjectCreated record, or the manual payload (a backfill or an undo).
 * `defaultBucket` (the deployment's) is where an undo payload without `bucket` looks.
 */
export function startTargets(event: StartEvent, defaultBucket?: string): StartTarget[] {
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
  if ('undo' in event) return [undoTarget(event, defaultBucket)];
  const manual = event as ManualStart;
  if (typeof manual.bucket !== 'string' || typeof manual.key !== 'string' || !manual.bucket || !manual.key) {
    throw new Error(
      'start: expected an S3 event, { "bucket", "key", "dryRun"?, "options"?, "runTag"? } or { "undo": "reports/<file>/<run>/", … }',
    );
  }
  return [{ bucket: manual.bucket, key: manual.key, manual: manualOf(manual) }];
}

/** A manual payload's own request: dryRun, options, and a checked runTag. */
function manualOf(payload: { dryRun?: boolean; options?: unknown; runTag?: unknown }): NonNullable<StartTarget['manual']> {
  const { runTag } = payload;
  if (runTag !== undefined && (typeof runTag !== 'string' || !RUN_TAG.test(runTag))) {
    throw new Error('start: "runTag" must be 1–64 characters of letters, digits, ".", "_" or "-"');
  }
  return { dryRun: payload.dryRun, options: payload.options, ...(runTag !== undefined ? { runTag } : {}) };
}

/** `{ "undo": "reports/<file>/<run>/" }` → the undo's target: its input key, in the named or the deployment's bucket. */
function undoTarget(payload: UndoStart, defaultBucket: string | undefined): StartTarget {
  const run = typeof payload.undo === 'string' ? runOfReportPrefix(payload.undo) : undefined;
  if (!run)
    throw new Error(`start: "undo" must name a run's report folder, "reports/<file>/<runId>/" (got ${JSON.stringify(payload.undo)})`);
  const bucket = payload.bucket ?? defaultBucket;
  if (typeof bucket !== 'string' || bucket === '') throw new Error('start: "bucket" is needed: this deployment names none (BUCKET)');
  return { bucket, key: undoInputKeyFor(run.prefix) as string, manual: manualOf(payload), undo: run };
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
  if (target.undo) return startUndo(target, target.undo, deps);
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
  const runId = runIdFor(bucket, key, runVersionKey(versionOf(target, pinned), variantOf(options, target.manual)));
  return queueRun({ target, runId, pinned, options, ...(refused ? { refused } : {}) }, deps);
}

/** What identifies a run besides its version: the dry-run flag and a manual runTag. */
function variantOf(options: RunOptions, manual: StartTarget['manual']): { dryRun: boolean; runTag?: string } {
  return { dryRun: options.dryRun, ...(manual?.runTag !== undefined ? { runTag: manual.runTag } : {}) };
}

/** A run ready to queue: its pinned source, options and id. */
interface ReadyRun {
  target: StartTarget;
  runId: string;
  pinned: ObjectInfo;
  options: RunOptions;
  refused?: StartRefusal;
}

/** Queues a pinned run, unless its execution exists or it is queued already (then a duplicate). */
async function queueRun(run: ReadyRun, deps: StartDeps): Promise<StartedRun> {
  const { target, runId, pinned, options, refused } = run;
  const { bucket, key } = target;
  const reportPrefix = reportPrefixFor(key, runId);
  const state: RunState = newRunState({
    runId,
    source: { bucket, ...pinned },
    reportPrefix,
    partsPrefix: partsPrefixFor(runId),
    options,
    ...(refused ? { refused } : {}),
  });
  const name = executionNameFor(runId);
  const log = deps.log.child({ runId });
  const runTag = target.manual?.runTag;
  const facts = { bucket, key, executionName: name, dryRun: options.dryRun, ...(runTag !== undefined ? { runTag } : {}) };
  // A refused file still runs through the workflow (nothing read, nothing sent): finalize writes its summary and reports.
  const why = refused ? { reason: `${refused.code}: ${refused.message}` } : {};
  if (refused) log.warn('the file is refused', { ...facts, code: refused.code, message: refused.message });
  const ran = { bucket, key, runId, executionName: name, reportPrefix, ...why };
  if (await executionExists(deps.sfn, name)) {
    log.info('run already started for this object version', facts);
    return { ...ran, status: 'duplicate' };
  }
  const entry = { runId, name, bucket, key, ...(target.sequencer ? { sequencer: target.sequencer } : {}), input: state };
  if (!(await enqueue(queueDeps(deps, bucket), entry, target.eventTime ?? state.startedAt))) {
    log.info('run already queued for this object version', facts);
    return { ...ran, status: 'duplicate' };
  }
  log.info('run queued', { ...facts, size: pinned.size });
  return { ...ran, status: 'queued' };
}

/**
 * The largest change log start reads for an undo (~240,000 entries): held as text and grouped by lead, it needs
 * ~100 MB of the function's 512 MB and a few seconds of its 30 s; a larger run is undone with the CLI.
 */
export const UNDO_LOG_MAX_BYTES = 32 * 1024 ** 2;

/**
 * An undo of the run reported under `run.prefix`: its change log (pinned by ETag) becomes the undo's input at
 * `target.key` (undoInputAt), and the undo queues like any run on it. Its identity is the log's version (not
 * the input's: one input serves a dry run, the real undo and tagged re-runs), the dry-run flag and the runTag.
 *
 * @throws Error (the payload is refused) when the run has no change log, or the payload's options or bucket are refused
 */
async function startUndo(target: StartTarget, run: RunPrefix, deps: StartDeps): Promise<StartedRun> {
  const { bucket, key } = target;
  const options = undoRunOptions(deps.env, target.manual, bucket);
  const store = deps.store(bucket);
  const instead = `undo it with the CLI: b24-lead-import undo s3://${bucket}/${run.prefix}`;
  const log = await readRunLog(store, run.prefix, run.prefix, { bytes: UNDO_LOG_MAX_BYTES, instead });
  if ('problem' in log) throw new Error(`start: ${log.problem}`);
  let input: UndoInput;
  try {
    input = undoInput(log.jsonl);
  } catch (err) {
    throw new Error(`start: ${run.prefix}: ${(err as Error).message}`);
  }
  const runId = runIdFor(bucket, key, runVersionKey(log.info.versionId ?? log.info.etag ?? '', variantOf(options, target.manual)));
  const name = executionNameFor(runId);
  if (await executionExists(deps.sfn, name)) {
    deps.log.info('undo already started for this run', { bucket, key, undo: run.prefix, runId, executionName: name });
    return { bucket, key, status: 'duplicate', runId, executionName: name, reportPrefix: reportPrefixFor(key, runId) };
  }
  const pinned = await undoInputAt(store, key, input);
  deps.log.info('undo input ready', { bucket, key, undo: run.prefix, leads: input.leads, entries: input.entries, size: pinned.size });
  return queueRun({ target, runId, pinned, options }, deps);
}

/**
 * The undo's input at `key`, pinned. The key is the run's and its log is written once, so an input already there
 * with the same length is this one (a dry-run undo before, a duplicate still queued): it is kept, not rewritten,
 * since a rewrite would leave the version a queued undo pinned to expire as an old version (undo/ lifecycle).
 */
async function undoInputAt(store: ObjectStore, key: string, input: UndoInput): Promise<ObjectInfo> {
  let bytes = 0;
  for (const line of input.lines()) bytes += Buffer.byteLength(line);
  // Missing (or, for a role that may not list the bucket, AccessDenied): written below.
  const there = await store.head(key).catch(() => undefined);
  if (there?.size === bytes) return there;
  await store.write(key, Readable.from(input.lines()), 'text/csv; charset=utf-8');
  return store.head(key);
}

/**
 * An undo's options: the manual ones, bounded like any manual run's (overrides.ts), with `undo` and `diff` on
 * top (an undo reads every lead first and puts a value back only where the lead still holds the run's).
 */
export function undoRunOptions(env: StartEnv, manual: StartTarget['manual'], bucket: string): RunOptions {
  const given = manual?.options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new Error('start: "options" must be an object');
  return runOptionsFor(env, { ...manual, options: { ...given, ...UNDO_RUN_OPTIONS } }, bucket);
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
    for (const target of startTargets(event, deps.env.BUCKET ?? deps.queueBucket)) runs.push(await startOne(target, deps));
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

/** The Lambda entry point: S3 ObjectCreated event for incoming/**.csv or .xlsx, a manual backfill payload, or an undo. */
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
