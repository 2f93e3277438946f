/**
 * One import through the real chunk and finalize handlers over a local S3 (s3rver) and the sandbox portal, with
 * the metrics as Lambda emits them (Powertools EMF on this process's stdout, the logs beside them). Run as a
 * child process by metrics.test.ts, which parses stdout; the last line is `SUMMARY <summary.json>`.
 * Argument: the temp folder for s3rver.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createChunkHandler } from '../../lambda/aws/chunkHandler.ts';
import { ChunkEnvSchema, FinalizeEnvSchema, readEnv } from '../../lambda/aws/env.ts';
import { createFinalizeHandler } from '../../lambda/aws/finalizeHandler.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { emfSink } from '../../lambda/aws/metrics.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { newRunState } from '../../lambda/run/newRun.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { startLocalS3 } from '../../harness/localS3.ts';
import { randomLeads, startSandbox } from '../../harness/sandbox/portal.ts';

const ROWS = 200;

async function main(dir: string): Promise<void> {
  const s3 = await startLocalS3({ directory: dir, buckets: ['leads'] });
  // Each request is held 600 ms (the run spans several 1.5 s chunks); the proxy refuses two of them.
  const sandbox = await startSandbox({ rate: 50, burst: 50, latencyMs: { request: 600 } });
  const portal = await refusingProxy(sandbox.webhookUrl, new Set([3, 5]));
  try {
    const ids = sandbox.seedLeads(randomLeads(ROWS - 10, 3));
    const lines = ['ID,TITLE,OPPORTUNITY'];
    for (const [i, id] of ids.entries()) lines.push(`${id},Renamed ${i},${i % 50 === 0 ? 'lots' : String(i)}`);
    for (let i = 0; i < 10; i++) lines.push(`${9_000_000 + i},Nobody ${i},1`);
    await s3.client.send(new PutObjectCommand({ Bucket: 'leads', Key: 'incoming/emf.csv', Body: `${lines.join('\n')}\n` }));
    const store = new S3Store(s3.client, 'leads');
    const env = {
      PORTAL_RATE: '100',
      PORTAL_BURST: '100',
      CHUNK_BUDGET_MS: '1500',
      CHUNK_MARGIN_MS: '1',
      POWERTOOLS_METRICS_NAMESPACE: 'B24LeadImportTest',
    };
    const log = createLogger({ service: 'b24-lead-import', level: 'INFO' });
    const metrics = emfSink({ namespace: env.POWERTOOLS_METRICS_NAMESPACE, service: 'b24-lead-import' });
    const chunk = createChunkHandler({
      env: readEnv(ChunkEnvSchema, env),
      store: () => store,
      webhook: async () => portal.webhookUrl,
      log,
      metrics,
    });
    const finalize = createFinalizeHandler({ env: readEnv(FinalizeEnvSchema, env), store: () => store, log, metrics });
    let state: RunState = newRunState({
      source: { bucket: 'leads', ...(await store.head('incoming/emf.csv')) },
      reportPrefix: 'reports/emf.csv/run/',
      partsPrefix: 'parts/run/',
      // Four batches in flight (the default is one series): they meet the portal's small bucket together.
      options: parseRunOptions({ limits: { concurrency: 4 } }),
    });
    let chunks = 0;
    while (!state.checkpoint.done) {
      state = await chunk(state);
      chunks++;
    }
    const summary = await finalize(state);
    process.stdout.write(`CHUNKS ${chunks}\nSUMMARY ${JSON.stringify(summary)}\n`);
  } finally {
    await portal.close();
    await sandbox.close();
    await s3.close();
  }
}

/**
 * The portal with someone else on its request counter: the `refused` requests (1-based, in arrival order) are
 * answered 503 QUERY_LIMIT_EXCEEDED as the portal's own bucket answers, the rest passed on. Deterministic, where
 * meeting the sandbox's bucket depended on how fast this machine sent the batches.
 */
async function refusingProxy(webhookUrl: string, refused: Set<number>) {
  const target = new URL(webhookUrl);
  let n = 0;
  const server: Server = createServer((req, res) => {
    if (refused.has(++n)) {
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' }));
      });
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    webhookUrl: `http://127.0.0.1:${port}${target.pathname}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

main(process.argv[2] ?? '.').catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
