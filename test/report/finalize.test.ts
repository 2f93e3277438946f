import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../lambda/config.ts';
import { finalizeRun } from '../../lambda/report/finalize.ts';
import { runChunk } from '../../lambda/run/chunk.ts';
import { newRunState } from '../../lambda/run/newRun.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function text(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** A run of `rows` rows (one invalid) chunked by 4 rows, ready to finalize. */
async function chunkedRun(rows: number): Promise<{ store: FsStore; state: RunState }> {
  const dir = await mkdtemp(join(tmpdir(), 'finalize-'));
  dirs.push(dir);
  const store = new FsStore(dir);
  const lines = ['ID,TITLE', ...Array.from({ length: rows }, (_, i) => (i === 2 ? 'x,bad id' : `${i + 1},Lead ${i + 1}`))];
  await store.write('in.csv', `${lines.join('\n')}\n`);
  const info = await store.head('in.csv');
  let state = newRunState({
    source: { bucket: '', ...info },
    reportPrefix: 'out/',
    partsPrefix: 'parts/run/',
    options: parseRunOptions({ dryRun: true }),
  });
  const deps = { source: store, output: store, catalogue: standardCatalogue(), deadline: Number.POSITIVE_INFINITY, maxChunkRows: 4 };
  while (!state.checkpoint.done) state = await runChunk(state, deps);
  return { store, state };
}

describe('finalizeRun is idempotent', () => {
  it('a retry after the parts were deleted keeps the report, rejected rows and summary of the first finalize', async () => {
    const { store, state } = await chunkedRun(10);
    const first = await finalizeRun(state, store);
    const files = async () => Promise.all(['report.csv', 'rejected.csv', 'summary.json'].map((f) => text(store, `out/${f}`)));
    const before = await files();
    expect(before[0].trimEnd().split('\r\n')).toHaveLength(11);
    expect(await store.list('parts/run/')).toEqual([]);

    // Step Functions retries Finalize when its Lambda crashed after the work was done.
    const again = await finalizeRun(state, store);
    expect(again).toEqual(first);
    expect(await files()).toEqual(before);
  });

  it('a retry after it crashed between the outputs and the summary writes the whole report again', async () => {
    const { store, state } = await chunkedRun(10);
    // The first attempt dies after the report, before the summary: nothing says done, the parts are still there.
    const dying: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      write: async (key: string, body: Parameters<ObjectStore['write']>[1], type?: string) => {
        if (key.endsWith('summary.json')) throw Object.assign(new Error('killed'), { name: 'Runtime.ExitError' });
        return store.write(key, body, type);
      },
    });
    await expect(finalizeRun(state, dying)).rejects.toThrow('killed');
    const summary = await finalizeRun(state, store);
    expect(summary.rows).toBe(10);
    expect((await text(store, 'out/report.csv')).trimEnd().split('\r\n')).toHaveLength(11);
    expect((await text(store, 'out/rejected.csv')).trimEnd().split('\r\n')).toEqual(['ID,TITLE', 'x,bad id']);
  });

  it('an earlier run writing to the same prefix (the CLI run again on the same file) is not mistaken for this one', async () => {
    const { store, state } = await chunkedRun(5);
    await store.write('out/summary.json', JSON.stringify({ runId: state.runId, startedAt: '2001-01-01T00:00:00.000Z', rows: 99 }));
    const summary = await finalizeRun(state, store);
    expect(summary.rows).toBe(5);
    expect((await text(store, 'out/report.csv')).trimEnd().split('\r\n')).toHaveLength(6);
  });
});
