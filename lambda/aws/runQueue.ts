import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { continuationName } from './segment.ts';
import type { RunState } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import type { Logger } from './log.ts';

/**
 * The deployment's run queue, in S3 under `queue/`: runs go one at a time, in upload order, and a waiting run
 * never gives up (it waits as an object, not in Lambda-throttling retries).
 *
 * - `queue/runs/<eventTime>-<sequencer>-<runId>.json`: one entry per upload (or manual start), the run's input.
 * - `queue/active.json`: the entry whose run is going on (its executions: `<name>`, `<name>-2`…).
 * - `queue/keys/<hash of bucket+key>.json`: the highest sequencer of a key that has run, so an older version
 *   whose event arrives late never applies over a newer one: it runs with every row `skipped` (SUPERSEDED).
 *
 * `dispatch` starts the head when nothing is active. It is called after each enqueue and when an execution
 * ends (EventBridge), and it must never run twice at once: the start function has reserved concurrency 1 and
 * one handler instance dispatches one event at a time (`serialized`).
 */
export const QUEUE_PREFIX = 'queue/';
const RUNS = `${QUEUE_PREFIX}runs/`;
const ACTIVE = `${QUEUE_PREFIX}active.json`;

export interface QueueEntry {
  runId: string;
  /** The first execution's name. */
  name: string;
  bucket: string;
  key: string;
  /** The S3 event's sequencer (absent for a manual start). */
  sequencer?: string;
  input: RunState;
}

/** What the queue needs of Step Functions. */
export interface QueueStarter {
  startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<unknown>;
  /** DescribeExecution by name; throws ExecutionDoesNotExist for an unknown one. */
  describeExecution(input: { name: string }): Promise<{ status?: string }>;
}

export interface QueueDeps {
  store: ObjectStore;
  sfn: QueueStarter;
  stateMachineArn: string;
  log: Logger;
}

/** Sequencers compare as hex of one length: S3 says to pad the shorter one with zeros. */
export function paddedSequencer(sequencer: string | undefined): string {
  return (sequencer ?? '').toUpperCase().padEnd(32, '0');
}

/** Entries sort by event time (sequencers only order the events of one key), then sequencer. */
export function entryKey(entry: Pick<QueueEntry, 'runId' | 'sequencer'>, eventTime: string): string {
  const time = eventTime.replace(/[^0-9]/g, '').padEnd(17, '0');
  return `${RUNS}${time}-${paddedSequencer(entry.sequencer)}-${entry.runId}.json`;
}

const keyRecord = (bucket: string, key: string) =>
  `${QUEUE_PREFIX}keys/${createHash('sha256').update(`${bucket}\0${key}`).digest('hex').slice(0, 32)}.json`;

/** Adds a run; false when it is queued already (the same event delivered twice, a manual start repeated). */
export async function enqueue(deps: QueueDeps, entry: QueueEntry, eventTime: string): Promise<boolean> {
  const at = entryKey(entry, eventTime);
  if ((await deps.store.list(RUNS)).some((k) => k.endsWith(`-${entry.runId}.json`))) return false;
  await deps.store.write(at, JSON.stringify(entry), 'application/json');
  return true;
}

/**
 * Starts the next run when none is going on; answers the runId that is active afterwards (undefined: idle).
 * A run whose execution exists already (a duplicate that came back after its run ended) is dropped.
 */
export async function dispatch(deps: QueueDeps): Promise<string | undefined> {
  const active = await readJson<{ entry: string; runId: string }>(deps.store, ACTIVE);
  if (active) {
    if (await stillRunning(deps, active.runId)) return active.runId;
    await deps.store.remove([active.entry, ACTIVE]);
    deps.log.info('run ended; the queue moves on', { runId: active.runId });
  }
  for (const at of await deps.store.list(RUNS)) {
    const entry = await readJson<QueueEntry>(deps.store, at);
    if (!entry) continue;
    const input = await supersededCheck(deps, entry);
    await deps.store.write(ACTIVE, JSON.stringify({ entry: at, runId: entry.runId }), 'application/json');
    try {
      await deps.sfn.startExecution({ stateMachineArn: deps.stateMachineArn, name: entry.name, input: JSON.stringify(input) });
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
      // This run happened already: its entry is a late duplicate, unless that execution is still going.
      if (await stillRunning(deps, entry.runId)) return entry.runId;
      await deps.store.remove([at, ACTIVE]);
      continue;
    }
    deps.log.info('run started from the queue', { runId: entry.runId, key: entry.key, executionName: entry.name });
    return entry.runId;
  }
  return undefined;
}

/** The run's last execution (`<name>`, `<name>-2`…) is still running; a run whose first never started is restarted. */
async function stillRunning(deps: QueueDeps, runId: string): Promise<boolean> {
  let last: string | undefined;
  for (let index = 1; ; index++) {
    try {
      last = (await deps.sfn.describeExecution({ name: continuationName(runId, index) })).status;
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist || (err as Error).name === 'ExecutionDoesNotExist') break;
      throw err;
    }
  }
  // No execution at all: dispatch died between marking it active and starting it; the entry goes again.
  if (last === undefined) {
    await deps.store.remove([ACTIVE]);
    return false;
  }
  return last === 'RUNNING';
}

/** Records the key's newest sequencer that ran; an older version arriving late runs with every row skipped. */
async function supersededCheck(deps: QueueDeps, entry: QueueEntry): Promise<RunState> {
  if (entry.sequencer === undefined) return entry.input;
  const at = keyRecord(entry.bucket, entry.key);
  const seen = await readJson<{ sequencer: string }>(deps.store, at);
  const mine = paddedSequencer(entry.sequencer);
  if (seen && paddedSequencer(seen.sequencer) > mine) {
    deps.log.warn('an older version arrived after a newer one ran: its rows are skipped', { runId: entry.runId, key: entry.key });
    const halted = { code: 'SUPERSEDED', message: 'a newer upload of this key was imported before this one: nothing was sent' };
    return { ...entry.input, checkpoint: { ...entry.input.checkpoint, halted } };
  }
  await deps.store.write(at, JSON.stringify({ sequencer: entry.sequencer }), 'application/json');
  return entry.input;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  if (!(await store.list(key)).includes(key)) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Runs `fn` calls one after another (one dispatcher per handler instance; reserved concurrency 1 makes it one overall). */
export function serialized<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const run = tail.then(() => fn(...args));
    tail = run.catch(() => undefined);
    return run;
  };
}
