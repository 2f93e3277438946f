import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, NoProgressError, ObjectChangedError, RunHaltedError } from '../../lambda/errors.ts';
import type { S3Store } from '../../lambda/stores/s3Store.ts';
import { createLocalFlow, type LocalFlowOptions } from '../../harness/flow/localFlow.ts';
import { LocalStateMachine } from '../../harness/flow/stateMachine.ts';
import type { LocalS3 } from '../../harness/localS3.ts';
import { runIdFor } from '../../lambda/run/drive.ts';
import type { RunState, Summary } from '../../lambda/run/state.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import { startEventBucket, type EventBucket } from '../support/s3.ts';

const BUCKET = 'leads';

function csv(rows: number, title = 'Lead'): string {
  const lines = ['ID,TITLE'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},${title} ${i}`);
  return lines.join('\n') + '\n';
}

async function text(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** The summary minus what differs between two runs of the same content. */
function comparable(s: Summary): Partial<Summary> {
  const { startedAt: _a, finishedAt: _b, runId: _c, report: _d, rowsPerSecond: _e, source: _f, ...rest } = s;
  return rest;
}

describe('local flow: S3 event → start → chunks → finalize (dry run)', () => {
  let bucket: EventBucket;
  let s3: LocalS3;
  let store: S3Store;
  let upload: EventBucket['upload'];

  beforeAll(async () => {
    bucket = await startEventBucket(BUCKET, 'local-flow');
    ({ s3, store, upload } = bucket);
  });
  afterAll(() => bucket.close());

  function flow(env: Record<string, string> = {}, extra: Partial<LocalFlowOptions> = {}) {
    return createLocalFlow({ client: s3.client, env: { LOG_LEVEL: 'SILENT', DRY_RUN: 'true', ...env }, ...extra });
  }

  /**
   * Many chunks of a few hundred rows each, the same on any machine: a chunk clock that ticks 1 ms per reading
   * and a 300 ms budget. (A wall-clock budget of a few ms is shorter than one local S3 round trip: every chunk
   * took a row or two, so 3,000 rows made ~1,500 chunks and ~3,000 parts, about 50 s of S3 calls.)
   */
  const SMALL_CHUNKS = { CHUNK_BUDGET_MS: '300', CHUNK_MARGIN_MS: '1' };
  function ticking(): () => number {
    let tick = 0;
    return () => ++tick;
  }

  it('an upload triggers an import and the report appears under reports/', async () => {
    const f = flow();
    const event = await upload('incoming/first.csv', csv(20));
    const { runs } = await f.start(event);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'started', key: 'incoming/first.csv' });
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(summary).toMatchObject({ rows: 20, dryRun: true, complete: true });
    expect(summary.counts.valid).toBe(20);
    const prefix = `reports/first.csv/${runs[0].runId}/`;
    expect(await store.list(prefix)).toEqual([
      `${prefix}rejected.csv`,
      `${prefix}rejected.safe.csv`,
      `${prefix}report.csv`,
      `${prefix}report.html`,
      `${prefix}summary.json`,
    ]);
    const report = (await text(store, `${prefix}report.csv`)).trimEnd().split(/\r\n/);
    expect(report).toHaveLength(21);
    expect(JSON.parse(await text(store, `${prefix}summary.json`))).toMatchObject({ rows: 20, runId: runs[0].runId });
    // The chunks' parts are merged and removed.
    expect(await store.list(`parts/${runs[0].runId}/`)).toEqual([]);
  });

  it('5,000 rows on a tiny time budget: many chunks, every line once and in order, same summary as one chunk', async () => {
    const body = csv(5000);
    let chunks = 0;
    const manyWithCount = flow(SMALL_CHUNKS, { onChunk: () => void chunks++, now: ticking() });
    const a = await manyWithCount.start(await upload('incoming/many.csv', body));
    const summaryMany = await manyWithCount.summaryOf(a.runs[0].executionName!);
    expect(chunks).toBeGreaterThan(5);
    expect(manyWithCount.stateMachine.executions.get(a.runs[0].executionName!)!.invocations).toBe(chunks);

    const one = flow();
    const b = await one.start(await upload('incoming/one.csv', body));
    const summaryOne = await one.summaryOf(b.runs[0].executionName!);
    expect(one.stateMachine.executions.get(b.runs[0].executionName!)!.invocations).toBe(1);

    const lines = (await text(store, summaryMany.report.report)).trimEnd().split(/\r\n/).slice(1);
    expect(lines).toHaveLength(5000);
    expect(lines.map((l) => Number(l.split(',')[1]))).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(lines.map((l) => Number(l.split(',')[0]))).toEqual(Array.from({ length: 5000 }, (_, i) => i + 2));
    expect(comparable(summaryMany)).toEqual(comparable(summaryOne));
    expect(summaryMany.rows).toBe(5000);
  });

  it('a worker killed mid-chunk is retried from its checkpoint: no row lost or reported twice', async () => {
    let reads = 0;
    let killed = 0;
    const crashing = (inner: ObjectStore, step: string): ObjectStore =>
      step !== 'chunk'
        ? inner
        : {
            label: inner.label,
            head: (k) => inner.head(k),
            list: (p) => inner.list(p),
            remove: (k) => inner.remove(k),
            read: async (k, o) => {
              const stream = await inner.read(k, o);
              // The second chunk dies while reading its rows (the first chunk read the header, twice: sniff and line; then its rows).
              if (k.startsWith('incoming/') && ++reads === 4) {
                let seen = 0;
                stream.on('data', (c: Buffer) => {
                  seen += c.length;
                  if (seen > 200 && killed === 0) {
                    killed++;
                    const err = new Error('worker killed');
                    err.name = 'Runtime.ExitError';
                    stream.destroy(err);
                  }
                });
              }
              return stream;
            },
            write: (k, b, t) => inner.write(k, b, t),
          };
    const f = flow(SMALL_CHUNKS, { wrapStore: crashing, now: ticking() });
    const { runs } = await f.start(await upload('incoming/killed.csv', csv(3000)));
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(killed).toBe(1);
    expect(f.stateMachine.executions.get(runs[0].executionName!)!.error).toBeUndefined();
    expect(summary).toMatchObject({ rows: 3000, complete: true });
    const ids = (await text(store, summary.report.report))
      .trimEnd()
      .split(/\r\n/)
      .slice(1)
      .map((l) => Number(l.split(',')[1]));
    expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  it('a chunk that fails for good is caught: finalize still writes the report of the rows done, with the error', async () => {
    let reads = 0;
    const failing = (inner: ObjectStore, step: string): ObjectStore =>
      step !== 'chunk'
        ? inner
        : Object.assign(Object.create(inner) as ObjectStore, {
            read: async (k: string, o?: Parameters<ObjectStore['read']>[1]) => {
              if (k.startsWith('incoming/') && ++reads >= 4) {
                failures++;
                throw new Error('access denied to the source');
              }
              return inner.read(k, o);
            },
          });
    let failures = 0;
    const f = flow(SMALL_CHUNKS, { wrapStore: failing, now: ticking() });
    const { runs } = await f.start(await upload('incoming/failing.csv', csv(3000)));
    const summary = await f.summaryOf(runs[0].executionName!);
    const execution = f.stateMachine.executions.get(runs[0].executionName!)!;
    expect(execution.error?.Error).toBe('Error');
    // An ordinary error is retried 3 times (States.TaskFailed retrier) before it is caught: 4 failed invocations;
    // SkipRest cannot read the source either (4 more), so the report stops at the checkpoint.
    expect(failures).toBe(8);
    expect(execution.invocations).toBeGreaterThanOrEqual(5);
    expect(summary.complete).toBe(false);
    expect(summary.error).toEqual({ code: 'Error', message: 'access denied to the source' });
    const lines = (await text(store, summary.report.report)).trimEnd().split(/\r\n/).slice(1);
    expect(lines.length).toBe(summary.rows);
    expect(summary.rows).toBeLessThan(3000);
  });

  it('a transient error is retried from the checkpoint and the run completes; an error no retry can fix is not retried', async () => {
    let reads = 0;
    const blip = (inner: ObjectStore, step: string): ObjectStore =>
      step !== 'chunk'
        ? inner
        : Object.assign(Object.create(inner) as ObjectStore, {
            read: async (k: string, o?: Parameters<ObjectStore['read']>[1]) => {
              // Two reads in a row fail like an S3 503 that outlasted the SDK's own retries.
              if (k.startsWith('incoming/') && (++reads === 4 || reads === 5))
                throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
              return inner.read(k, o);
            },
          });
    const f = flow(SMALL_CHUNKS, { wrapStore: blip, now: ticking() });
    const { runs } = await f.start(await upload('incoming/blip.csv', csv(3000)));
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(reads).toBeGreaterThan(4);
    expect(f.stateMachine.executions.get(runs[0].executionName!)!.error).toBeUndefined();
    expect(summary).toMatchObject({ rows: 3000, complete: true });
    const ids = (await text(store, summary.report.report))
      .trimEnd()
      .split(/\r\n/)
      .slice(1)
      .map((l) => Number(l.split(',')[1]));
    expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));

    let fatal = 0;
    const replaced = (inner: ObjectStore, step: string): ObjectStore =>
      step !== 'chunk'
        ? inner
        : Object.assign(Object.create(inner) as ObjectStore, {
            read: async (k: string) => {
              fatal++;
              throw new ObjectChangedError(`${BUCKET}/${k}`);
            },
          });
    const g = flow({}, { wrapStore: replaced });
    const second = await g.start(await upload('incoming/replaced.csv', csv(10)));
    const failed = await g.summaryOf(second.runs[0].executionName!);
    const execution = g.stateMachine.executions.get(second.runs[0].executionName!)!;
    expect(execution.error?.Error).toBe('ObjectChangedError');
    // Neither the Chunk nor SkipRest (which meets the replaced source too) is retried.
    expect([fatal, execution.invocations]).toEqual([2, 2]);
    expect(failed.error?.code).toBe('ObjectChangedError');
  });

  it('the same S3 event delivered twice produces one run', async () => {
    const f = flow();
    const event = await upload('incoming/twice.csv', csv(10));
    const first = await f.start(event);
    const second = await f.start(JSON.parse(JSON.stringify(event)) as S3Event);
    expect(first.runs[0].status).toBe('started');
    expect(second.runs[0]).toMatchObject({ status: 'duplicate', runId: first.runs[0].runId });
    expect(f.stateMachine.executions.size).toBe(1);
    await f.stateMachine.settled();
    expect(await store.list('reports/twice.csv/')).toHaveLength(5);
  });

  it('a key with spaces and non-ASCII characters works end to end', async () => {
    const f = flow();
    const key = 'incoming/лиды май 2024 (копия)+1.csv';
    const event = await upload(key, csv(5));
    expect(event.Records[0].s3.object.key).toContain('+'); // URL-encoded as S3 sends it
    const { runs } = await f.start(event);
    expect(runs[0]).toMatchObject({ status: 'started', key });
    const summary = await f.summaryOf(runs[0].executionName!);
    expect(summary.rows).toBe(5);
    expect(summary.report.report).toBe(`reports/лиды май 2024 (копия)+1.csv/${runs[0].runId}/report.csv`);
    expect(await store.list(`reports/лиды май 2024 (копия)+1.csv/`)).toHaveLength(5);
  });

  it('a manual backfill payload starts a run, honouring dryRun and options', async () => {
    await store.write('incoming/backfill.csv', 'ID;TITLE\n1;A\n2;B\n');
    const f = flow();
    const { runs } = await f.start({ bucket: BUCKET, key: 'incoming/backfill.csv', dryRun: true, options: { delimiter: ';' } });
    expect(runs[0].status).toBe('started');
    const execution = f.stateMachine.executions.get(runs[0].executionName!)!;
    expect(execution.input.options).toMatchObject({ dryRun: true, delimiter: ';' });
    const summary = await execution.result;
    expect(summary).toMatchObject({ rows: 2, dryRun: true });
    await expect(f.start({ bucket: BUCKET, key: 'incoming/backfill.csv', options: { delimiter: '|' } })).rejects.toThrow();
  });

  it('a manual dry run does not block the real run of the same version; repeats are duplicates; a runTag forces a fresh run', async () => {
    await store.write('incoming/dry-then-real.csv', csv(3));
    const f = flow({ DRY_RUN: 'false' });
    const target = { bucket: BUCKET, key: 'incoming/dry-then-real.csv' };
    const dry = await f.start({ ...target, dryRun: true });
    const real = await f.start({ ...target, dryRun: false });
    // One run at a time: the real run waits in the queue behind the dry run.
    expect(dry.runs[0].status).toBe('started');
    expect(real.runs[0].status).toBe('queued');
    expect(real.runs[0].runId).not.toBe(dry.runs[0].runId);
    // The real run keeps the id an S3 event for this version gets (bucket, key, version only).
    const info = await store.head(target.key);
    expect(real.runs[0].runId).toBe(runIdFor(BUCKET, target.key, info.versionId ?? info.etag ?? ''));

    const [dryAgain, realAgain] = [await f.start({ ...target, dryRun: true }), await f.start(target)];
    expect(dryAgain.runs[0]).toMatchObject({ status: 'duplicate', runId: dry.runs[0].runId });
    expect(realAgain.runs[0]).toMatchObject({ status: 'duplicate', runId: real.runs[0].runId });

    const tagged = await f.start({ ...target, runTag: 'again-1' });
    expect(['started', 'queued']).toContain(tagged.runs[0].status);
    expect(new Set([dry, real, tagged].map((r) => r.runs[0].runId)).size).toBe(3);
    expect((await f.start({ ...target, runTag: 'again-1' })).runs[0].status).toBe('duplicate');

    const summaries = await Promise.all([dry, real, tagged].map((r) => f.summaryOf(r.runs[0].executionName!)));
    await f.stateMachine.settled();
    expect(f.stateMachine.executions.size).toBe(3);
    // Without a portal the real runs fail at their first chunk (only dry runs can run), but they did start as real
    // runs; every row still has its line, skipped RUN_FAILED.
    expect(summaries.map((s) => [s.dryRun, s.rows, s.error !== undefined, s.counts.skipped ?? 0])).toEqual([
      [true, 3, false, 0],
      [false, 3, true, 3],
      [false, 3, true, 3],
    ]);
    expect(summaries[1].error?.message).toMatch(/webhook/);
    // Each: report.csv, rejected.csv, rejected.safe.csv, report.html, summary.json; the real runs also changes.csv/.jsonl.
    expect(await store.list('reports/dry-then-real.csv/')).toHaveLength(19);
  });

  it('keys outside incoming/ and non-CSV keys are ignored', async () => {
    const f = flow();
    await store.write('incoming/notes.txt', 'x');
    const a = await f.start(await upload('other/leads.csv', csv(2)));
    const b = await f.start({ bucket: BUCKET, key: 'incoming/notes.txt' });
    const c = await f.start({ bucket: BUCKET, key: 'reports/x.csv' });
    expect([a, b, c].map((r) => r.runs[0].status)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(f.stateMachine.executions.size).toBe(0);
  });
});

describe('local state machine: the retry policy of infra/retryPolicy.ts, played in-process', () => {
  /** Runs one execution whose chunk step throws `failures` in turn (then finishes the run); returns what happened. */
  async function play(failures: Array<() => Error>) {
    const thrown = [...failures];
    const machine = new LocalStateMachine({
      chunk: async (state) => {
        const fail = thrown.shift();
        if (fail) throw fail();
        return { ...state, checkpoint: { ...state.checkpoint, done: true } };
      },
      finalize: async (event) => ({ error: (event as { error?: unknown }).error }) as unknown as Summary,
    });
    const input = { checkpoint: { done: false } } as unknown as RunState;
    await machine.startExecution({ stateMachineArn: 'arn:local', name: 'run', input: JSON.stringify(input) });
    const execution = machine.executions.get('run')!;
    const summary = await execution.result;
    return { invocations: execution.invocations, error: execution.error?.Error, errorReported: summary.error !== undefined };
  }
  const named = (name: string) => () => Object.assign(new Error(name), { name });

  // A caught failure runs SkipRest (the chunk function again) before the report: one more invocation.
  it('retries a crashed worker twice, then catches it into the report', async () => {
    expect(await play([named('Runtime.ExitError')])).toEqual({ invocations: 2, error: undefined, errorReported: false });
    expect(await play(Array.from({ length: 3 }, () => named('Sandbox.Timedout')))).toEqual({
      invocations: 4,
      error: 'Sandbox.Timedout',
      errorReported: true,
    });
  });

  it('never retries an error no retry can fix', async () => {
    for (const fatal of [
      () => new ConfigurationError('no webhook'),
      () => new RunHaltedError('OVERLOAD_LIMIT', 'halted'),
      () => new NoProgressError('stuck'),
    ]) {
      // The Chunk once, SkipRest once (it fails the same way, is not retried either, and the run is finalized).
      expect(await play([fatal, fatal])).toEqual({ invocations: 2, error: fatal().name, errorReported: true });
    }
  });

  it('retries any other error 3 times and waits out the Lambda service patiently', async () => {
    expect(await play(Array.from({ length: 4 }, () => named('Error')))).toEqual({ invocations: 5, error: 'Error', errorReported: true });
    expect(await play(Array.from({ length: 20 }, () => named('Lambda.TooManyRequestsException')))).toEqual({
      invocations: 21,
      error: undefined,
      errorReported: false,
    });
  });
});
