import { describe, expect, it } from 'vitest';
import { createChunkHandler } from '../../lambda/aws/chunkHandler.ts';
import { readEnv, ChunkEnvSchema } from '../../lambda/aws/env.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { ConfigurationError } from '../../lambda/errors.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { newRunState } from '../../lambda/run/drive.ts';
import type { LeadSender, RowOutcome } from '../../lambda/types.ts';
import { DEFERRED } from '../../lambda/types.ts';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';

async function setup(dryRun: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'chunk-'));
  await writeFile(join(dir, 'in.csv'), 'ID,TITLE\n1,a\n2,b\n');
  const store = new FsStore(dir);
  const state = newRunState({
    source: { bucket: '', ...(await store.head('in.csv')) },
    reportPrefix: 'r/',
    partsPrefix: 'p/',
    options: parseRunOptions({ dryRun }),
  });
  const lines: string[] = [];
  const log = createLogger({ service: 'test', level: 'INFO', write: (l: string) => lines.push(l) });
  return { store, state, log, lines };
}

describe('chunk handler edges', () => {
  it('a real run without a webhook fails as ConfigurationError (never retried) and logs it at ERROR', async () => {
    const { store, state, log, lines } = await setup(false);
    const chunk = createChunkHandler({ env: readEnv(ChunkEnvSchema, {}), store: () => store, webhook: async () => undefined, log });
    const failure = await chunk(state).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as ConfigurationError).name).toBe('ConfigurationError'); // the errorType Step Functions matches
    expect(lines.some((l) => JSON.parse(l).level === 'ERROR')).toBe(true);
  });

  it('a dry run whose portal cannot be opened goes on offline and logs a WARN; a real run fails with the open error', async () => {
    const { store, state, log, lines } = await setup(true);
    const portal = async () => {
      throw new Error('ECONNREFUSED');
    };
    const deps = { env: readEnv(ChunkEnvSchema, {}), store: () => store, webhook: async () => 'http://127.0.0.1:1/rest/1/x/', portal, log };
    const next = await createChunkHandler(deps)(state);
    expect(next.checkpoint.done).toBe(true);
    expect(next.checkpoint.counts.valid).toBe(2);
    expect(lines.some((l) => JSON.parse(l).level === 'WARN' && /could not open the portal/.test(JSON.parse(l).message))).toBe(true);

    const real = await setup(false);
    const failing = createChunkHandler({ ...deps, store: () => real.store, log: real.log });
    await expect(failing(real.state)).rejects.toThrow('ECONNREFUSED');
    expect(real.lines.some((l) => JSON.parse(l).level === 'ERROR')).toBe(true);
  });

  it('chunks that make no progress end the run as halted NO_PROGRESS instead of looping', async () => {
    const { store, state, log } = await setup(false);
    // A portal that defers every row: each chunk returns without finishing one.
    const sender: LeadSender = {
      send: async (rows) =>
        rows.map((r): RowOutcome => ({ line: r.line, id: String(r.id), status: 'skipped', errorCode: DEFERRED, message: '', attempts: 0 })),
      stats: () => ({ requests: 0, retries: 0, throttledMs: 0, limitErrors: {} }),
    };
    const chunk = createChunkHandler({
      env: readEnv(ChunkEnvSchema, { MAX_IDLE_CHUNKS: '3' }),
      store: () => store,
      webhook: async () => 'http://127.0.0.1:1/rest/1/x/',
      portal: async () => ({ api: undefined as never, sender, catalogue: standardCatalogue(), host: '127.0.0.1' }),
      log,
    });
    let s = state;
    let chunks = 0;
    while (!s.checkpoint.done && chunks < 10) {
      s = await chunk(s);
      chunks++;
    }
    expect(s.checkpoint.halted?.code).toBe('NO_PROGRESS');
    expect(s.checkpoint.counts.skipped).toBe(2);
    expect(chunks).toBeLessThan(10);
  });
});
