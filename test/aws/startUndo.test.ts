import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readEnv, StartEnvSchema } from '../../lambda/aws/env.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { createStartHandler, type ExecutionStarter, UNDO_LOG_MAX_BYTES } from '../../lambda/aws/startHandler.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import { undoEntries } from '../../lambda/undo/undoInput.ts';

/**
 * The manual invocation `{ "undo": "reports/<file>/<run>/" }`: start reads the run's change log from the bucket,
 * writes the undo's input under undo/ (never incoming/: it must not start a run by itself) and queues the undo
 * with { undo, diff } over the manual options, bounded by the deployment. Refusals say why, in the CLI's words.
 */
const BUCKET = 'leads';
const RUN = 'reports/may.csv/0123456789abcdef/';
const LOG = [
  { line: 2, id: 11, field: 'TITLE', before: 'A0', after: 'A1' },
  { line: 2, id: 11, field: 'PHONE:MOBILE', before: '', after: '+79003333333', types: ['', 'MOBILE'] },
  { line: 3, id: 12, field: 'NAME', before: 'Bob', after: 'Robert' },
  { line: 4, id: 11, field: 'COMMENTS', before: 'x', after: 'y' },
];

async function setup(envExtra: Record<string, string> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'start-undo-'));
  const fs = new FsStore(root);
  const writes: string[] = [];
  const buckets: string[] = [];
  let heads = (key: string) => fs.head(key);
  const store: ObjectStore = Object.assign(Object.create(fs) as ObjectStore, {
    write: async (key: string, body: Parameters<ObjectStore['write']>[1], type?: string) => {
      writes.push(key);
      return fs.write(key, body, type);
    },
    head: (key: string) => heads(key),
  });
  const started: Array<{ name: string; input: RunState }> = [];
  const status = new Map<string, string>();
  const sfn: ExecutionStarter = {
    startExecution: async ({ name, input }) => {
      started.push({ name, input: JSON.parse(input) as RunState });
      status.set(name, 'RUNNING');
      return { executionArn: name };
    },
    describeExecution: async ({ name }) => {
      const s = status.get(name);
      if (!s) throw new ExecutionDoesNotExist({ message: 'no', $metadata: {} });
      return { status: s };
    },
  };
  const env = readEnv(StartEnvSchema, {
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:sm',
    BUCKET,
    LOG_LEVEL: 'SILENT',
    ...envExtra,
  });
  const log = createLogger({ service: 'test', level: 'SILENT' });
  const start = createStartHandler({
    env,
    store: (b) => {
      buckets.push(b);
      return store;
    },
    sfn,
    log,
    queueBucket: BUCKET,
  });
  const put = (key: string, text: string) => fs.write(key, text);
  const ended = (name: string) => {
    status.set(name, 'SUCCEEDED');
  };
  const fakeHead = (f: typeof heads) => {
    heads = f;
  };
  return { root, fs, start, started, writes, buckets, put, ended, fakeHead };
}

const jsonl = (entries: object[]) => entries.map((e) => `${JSON.stringify(e)}\n`).join('');

describe('start { "undo": "reports/<file>/<run>/" }', () => {
  it('queues an undo of the run: its input under undo/, { undo, diff } on, its report under reports/<file>-undo/', async () => {
    const s = await setup();
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    const { runs } = await s.start({ undo: RUN });
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({ bucket: BUCKET, key: 'undo/may.csv/0123456789abcdef.csv', status: 'started' });
    expect(run.reportPrefix).toBe(`reports/may.csv-undo/${run.runId}/`);
    expect(s.buckets.every((b) => b === BUCKET)).toBe(true);
    // The input: one row per lead, in the order the run first changed it, holding that lead's entries.
    const csv = await readFile(join(s.root, run.key), 'utf8');
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('ID,CHANGES');
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(['11', '12']);
    const cell = (r: string) => JSON.parse(`"${r.slice(r.indexOf(',') + 2, -1).replace(/""/g, '\\"')}"`) as string;
    expect(undoEntries(cell(rows[1]))).toEqual([LOG[0], LOG[1], LOG[3]]);
    expect(undoEntries(cell(rows[2]))).toEqual([LOG[2]]);
    // The run: on that input's version, an undo that reads first, reporting beside the run it takes back.
    const input = s.started[0].input;
    expect(s.started[0].name).toBe(run.executionName);
    expect(input.source).toMatchObject({ bucket: BUCKET, key: run.key, size: Buffer.byteLength(csv) });
    expect(input.reportPrefix).toBe(run.reportPrefix);
    expect(input.options).toMatchObject({ undo: true, diff: true, dryRun: false });
  });

  it("the manual options may only tighten the deployment's, and cannot turn the read (diff) off", async () => {
    const s = await setup({ PORTAL_RATE: '2' });
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    await s.start({ undo: RUN.slice(0, -1), dryRun: true, options: { diff: false, undo: false, limits: { rate: 50, concurrency: 1 } } });
    const { options } = s.started[0].input;
    expect(options).toMatchObject({ undo: true, diff: true, dryRun: true });
    expect(options.limits).toMatchObject({ rate: 2, concurrency: 1 });
  });

  it('a dry-run deployment undoes as a dry run only (plan.csv: what it would put back)', async () => {
    const s = await setup({ DRY_RUN: 'true' });
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    await s.start({ undo: RUN, dryRun: false });
    expect(s.started[0].input.options).toMatchObject({ undo: true, dryRun: true });
  });

  it('the same undo again is a duplicate (its input is not rewritten); a runTag or a dry run is another run', async () => {
    const s = await setup();
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    const first = (await s.start({ undo: RUN })).runs[0];
    const writesAfterFirst = s.writes.filter((k) => k.startsWith('undo/')).length;
    const again = (await s.start({ undo: RUN, bucket: BUCKET })).runs[0];
    expect(again).toMatchObject({ status: 'duplicate', runId: first.runId, reportPrefix: first.reportPrefix });
    expect(s.writes.filter((k) => k.startsWith('undo/')).length).toBe(writesAfterFirst);
    s.ended(first.executionName!);
    const tagged = (await s.start({ undo: RUN, runTag: 'again-1' })).runs[0];
    expect(tagged.status).toBe('started');
    expect(tagged.runId).not.toBe(first.runId);
    s.ended(tagged.executionName!);
    const dry = (await s.start({ undo: RUN, dryRun: true })).runs[0];
    expect(dry.status).toBe('started');
    expect(new Set([first.runId, tagged.runId, dry.runId]).size).toBe(3);
    expect(s.started).toHaveLength(3);
    // One input for all of them, written once: a rewrite would strand the version a queued undo pinned.
    expect(s.writes.filter((k) => k.startsWith('undo/'))).toEqual([first.key]);
    expect(new Set(s.started.map((r) => r.input.source.etag)).size).toBe(1);
  });

  it('an input that is not the one this log makes (another length) is written again', async () => {
    const s = await setup();
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    await s.put('undo/may.csv/0123456789abcdef.csv', 'ID,CHANGES\r\n');
    const { runs } = await s.start({ undo: RUN });
    expect(s.writes).toContain(runs[0].key);
    expect((await readFile(join(s.root, runs[0].key), 'utf8')).split('\r\n')).toHaveLength(4);
  });

  it('a run without a change log is refused, saying why (its summary.json): --no-diff, a dry run, no run at all', async () => {
    const s = await setup();
    await s.put(`${RUN}summary.json`, JSON.stringify({ runId: 'r', dryRun: false, changeLog: false }));
    await expect(s.start({ undo: RUN })).rejects.toThrow(
      `start: ${RUN}: that run has no change log (it ran with --no-diff, which reads nothing), so it cannot be undone`,
    );
    const dry = 'reports/may.csv/dry/';
    await s.put(`${dry}summary.json`, JSON.stringify({ runId: 'd', dryRun: true, changeLog: false }));
    await expect(s.start({ undo: dry })).rejects.toThrow(/that run has no change log \(a dry run\), so it cannot be undone/);
    await expect(s.start({ undo: 'reports/june.csv/nothing/' })).rejects.toThrow(
      "start: reports/june.csv/nothing/ is not a run's report folder with a change log (changes.jsonl)",
    );
    expect(s.writes.filter((k) => k.startsWith('undo/'))).toEqual([]);
    expect(s.started).toEqual([]);
  });

  it('a change log that is not one (a bad line) is refused, naming the line', async () => {
    const s = await setup();
    await s.put(`${RUN}changes.jsonl`, `${jsonl(LOG.slice(0, 1))}{"id":"x"}\n`);
    await expect(s.start({ undo: RUN })).rejects.toThrow(`start: ${RUN}: changes.jsonl line 2 is not a change-log entry`);
    expect(s.started).toEqual([]);
  });

  it('a log larger than the function reads is refused, pointing at the CLI', async () => {
    const s = await setup();
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    s.fakeHead(async (key) => ({ key, size: UNDO_LOG_MAX_BYTES + 1, etag: 'e' }));
    await expect(s.start({ undo: RUN })).rejects.toThrow(
      `more than the 32.0 MB read here; undo it with the CLI: b24-lead-import undo s3://${BUCKET}/${RUN}`,
    );
  });

  it('a prefix that is no run folder is refused before anything is read', async () => {
    const s = await setup();
    for (const undo of ['incoming/may.csv', 'reports/may.csv', 'reports/', 'reports/../x/r/', '', 7]) {
      await expect(s.start({ undo } as never)).rejects.toThrow(
        /start: "undo" must name a run's report folder, "reports\/<file>\/<runId>\/"/,
      );
    }
    expect(s.buckets).toEqual([]);
  });

  it("another bucket than the deployment's is refused, as for any manual start", async () => {
    const s = await setup();
    await expect(s.start({ undo: RUN, bucket: 'someone-elses' })).rejects.toThrow(
      `start: "bucket" must be this deployment's bucket "${BUCKET}" (got "someone-elses")`,
    );
    await expect(s.start({ undo: RUN, options: [1] })).rejects.toThrow('start: "options" must be an object');
    await expect(s.start({ undo: RUN, runTag: 'no spaces' })).rejects.toThrow(/runTag/);
    expect(s.buckets).toEqual([]);
  });

  it('the undo input is no start target of its own: an S3 event or a manual { bucket, key } on undo/ is ignored', async () => {
    const s = await setup();
    await s.put(`${RUN}changes.jsonl`, jsonl(LOG));
    const { runs } = await s.start({ undo: RUN });
    const event = {
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(runs[0].key) } } }],
    } as unknown as S3Event;
    expect((await s.start(event)).runs[0]).toMatchObject({ status: 'ignored', reason: 'outside incoming/' });
    expect((await s.start({ bucket: BUCKET, key: runs[0].key })).runs[0]).toMatchObject({ status: 'ignored', reason: 'outside incoming/' });
    expect(s.started).toHaveLength(1);
  });
});
