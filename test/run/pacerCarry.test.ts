import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parseRunOptions } from '../../lambda/config.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { runChunk } from '../../lambda/run/chunk.ts';
import { newRunState } from '../../lambda/run/drive.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import type { LeadSender, SendStats, ValidRow } from '../../lambda/types.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A sender that writes nothing but keeps a pacer state: what it spent, and what it was told at its start. */
function sender(name: string, told: unknown[]): LeadSender {
  const stats: SendStats = { requests: 0, retries: 0, throttledMs: 0, limitErrors: {} };
  return {
    async send(rows: ValidRow[]) {
      return rows.map((r) => ({ line: r.line, id: String(r.id), status: 'updated' as const, errorCode: '', message: '', attempts: 1 }));
    },
    stats: () => stats,
    pacerState: () => ({ spentBy: name }),
    resumePacer: (s: unknown) => told.push(s),
  };
}

it("a chunk starts with its predecessor's pacer state, carried in the checkpoint", async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacer-'));
  await writeFile(join(dir, 'in.csv'), `ID,TITLE\n${Array.from({ length: 30 }, (_, i) => `${i + 1},t${i}`).join('\n')}\n`);
  const store = new FsStore(dir);
  let state = newRunState({
    source: { bucket: '', ...(await store.head('in.csv')) },
    reportPrefix: 'out/',
    partsPrefix: '.parts/',
    options: parseRunOptions({}),
  });
  const told: unknown[] = [];
  const deps = { source: store, output: store, catalogue: standardCatalogue(), deadline: Date.now() + 60_000, maxChunkRows: 10 };
  state = await runChunk(state, { ...deps, sender: sender('first', told) });
  expect(told).toEqual([]); // the first chunk has no predecessor
  expect(state.checkpoint.pacer).toEqual({ spentBy: 'first' });
  // JSON as Step Functions carries it, then a fresh sender (a fresh Lambda).
  state = JSON.parse(JSON.stringify(state));
  state = await runChunk(state, { ...deps, sender: sender('second', told) });
  expect(told).toEqual([{ spentBy: 'first' }]);
  expect(state.checkpoint.pacer).toEqual({ spentBy: 'second' });
});
