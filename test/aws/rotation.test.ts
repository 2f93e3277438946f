import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChunkHandler } from '../../lambda/aws/chunkHandler.ts';
import { ChunkEnvSchema, readEnv } from '../../lambda/aws/env.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { clearSecretCache, webhookUrl } from '../../lambda/aws/secret.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { newRunState } from '../../lambda/run/newRun.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { randomLeads, type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';

const OLD = '0ldw3bh00kc0de';
const NEW = 'n3ww3bh00kc0de';

/**
 * The portal as a rotation leaves it: the old webhook works until `revoke()` (its requests are passed on under
 * the sandbox's primary code), then the sandbox itself refuses it (401 INVALID_CREDENTIALS, as for any unknown
 * code). The new webhook is the sandbox's second one, called directly.
 */
async function rotationProxy(sb: Sandbox, primary: string, revokeAfter: number) {
  const target = new URL(sb.url);
  let served = 0;
  const server: Server = createServer((req, res) => {
    served++;
    const path = served > revokeAfter ? req.url! : req.url!.replace(`/rest/1/${OLD}/`, `/rest/1/${primary}/`);
    const upstream = request({ host: target.hostname, port: target.port, path, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    oldUrl: `http://127.0.0.1:${port}/rest/1/${OLD}/`,
    get served() {
      return served;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('a webhook rotated mid-run', () => {
  const PRIMARY = 'pr1m4ryc0de';
  let sb: Sandbox;
  let dir: string;
  let ids: number[];
  beforeAll(async () => {
    sb = await startSandbox({ code: PRIMARY, webhooks: [{ userId: 1, code: NEW }], rate: 1000, burst: 1000 });
    ids = sb.seedLeads(randomLeads(120, 5));
    dir = await mkdtemp(join(tmpdir(), 'rotation-'));
  });
  afterAll(async () => {
    await sb.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => clearSecretCache());

  async function run(file: string, secret: { value: string; reads: number }, revokeAfter: number) {
    const proxy = await rotationProxy(sb, PRIMARY, revokeAfter);
    secret.value = proxy.oldUrl;
    const lines = ['ID,TITLE', ...ids.map((id) => `${id},${file} ${id}`)];
    await writeFile(join(dir, file), `${lines.join('\n')}\n`);
    const store = new FsStore(dir);
    const logLines: string[] = [];
    const reader = async () => {
      secret.reads++;
      return secret.value;
    };
    const chunk = createChunkHandler({
      env: readEnv(ChunkEnvSchema, { PORTAL_RATE: '1000', PORTAL_BURST: '1000' }),
      store: () => store,
      webhook: (opts) => webhookUrl('arn:webhook', reader, opts),
      log: createLogger({ service: 't', level: 'INFO', write: (l) => void logLines.push(l) }),
    });
    let state: RunState = newRunState({
      source: { bucket: '', ...(await store.head(file)) },
      reportPrefix: `r/${file}/`,
      partsPrefix: `p/${file}/`,
      options: parseRunOptions({}),
    });
    const first = await webhookUrl('arn:webhook', reader); // the container's cached copy: the old webhook
    expect(first).toBe(proxy.oldUrl);
    return {
      logLines,
      proxy,
      async go(rotate: () => void) {
        rotate();
        try {
          while (!state.checkpoint.done) state = await chunk(state);
          return state;
        } finally {
          await proxy.close();
        }
      },
    };
  }

  const writesOf = (title: string) => sb.ledger().filter((e) => String(e.fields.TITLE ?? '').startsWith(title));

  it('refused at the chunk start (preflight): the secret is read again and the chunk goes on with the new webhook', async () => {
    const secret = { value: '', reads: 0 };
    const r = await run('start.csv', secret, 0); // revoked before the first request
    const done = await r.go(() => {
      secret.value = sb.webhookUrls[1];
    });
    expect(done.checkpoint.halted).toBeUndefined();
    expect(done.checkpoint.counts).toMatchObject({ updated: ids.length });
    expect(writesOf('start.csv')).toHaveLength(ids.length);
    expect(secret.reads).toBe(2); // the cached read, then one fresh read
    expect(r.logLines.some((l) => /secret holds a new one \(rotated\)/.test(JSON.parse(l).message))).toBe(true);
    expect(r.logLines.join('\n')).not.toContain(NEW);
  });

  it('refused mid-chunk (the sender halts): the unfinished rows are sent again on the new webhook, each lead written once', async () => {
    const secret = { value: '', reads: 0 };
    const r = await run('mid.csv', secret, 3); // preflight and two more requests pass, then the old code is refused
    const done = await r.go(() => {
      secret.value = sb.webhookUrls[1];
    });
    expect(done.checkpoint.halted).toBeUndefined();
    // Three requests went through on the old webhook (preflight, then writes), the next were refused.
    expect(r.proxy.served).toBeGreaterThan(3);
    expect(done.checkpoint.counts).toEqual(expect.objectContaining({ updated: ids.length }));
    expect(done.checkpoint.counts.skipped ?? 0).toBe(0);
    expect(r.logLines.filter((l) => /secret holds a new one \(rotated\)/.test(JSON.parse(l).message))).toHaveLength(1);
    const writes = writesOf('mid.csv');
    expect(new Set(writes.map((w) => w.id)).size).toBe(ids.length);
    expect(writes).toHaveLength(ids.length);
    expect(secret.reads).toBe(2);
  });

  it('the secret still holds the refused webhook: read once more, then the run halts INVALID_CREDENTIALS as before', async () => {
    const secret = { value: '', reads: 0 };
    const r = await run('same.csv', secret, 0);
    await expect(r.go(() => undefined)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(secret.reads).toBe(2);
    expect(writesOf('same.csv')).toHaveLength(0);
  });
});

describe('the webhook secret cache', () => {
  beforeEach(() => clearSecretCache());

  it('serves the cached value for its time to live, then reads again (a rotated webhook reaches a warm container)', async () => {
    let t = 0;
    let value = 'https://a.bitrix24.com/rest/1/one/';
    let reads = 0;
    const reader = async () => {
      reads++;
      return value;
    };
    const read = (fresh = false) => webhookUrl('arn:ttl', reader, { now: () => t, maxAgeMs: 60_000, fresh });
    expect(await read()).toBe('https://a.bitrix24.com/rest/1/one/');
    value = 'https://a.bitrix24.com/rest/1/two/';
    t = 59_999;
    expect(await read()).toBe('https://a.bitrix24.com/rest/1/one/');
    t = 60_000;
    expect(await read()).toBe('https://a.bitrix24.com/rest/1/two/');
    expect(reads).toBe(2);
    value = 'https://a.bitrix24.com/rest/1/three/';
    expect(await read(true)).toBe('https://a.bitrix24.com/rest/1/three/');
    expect(reads).toBe(3);
  });
});
