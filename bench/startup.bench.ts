/**
 * Startup of the CLI: the built entry (bin → dist/cli.mjs) against the TypeScript sources through tsx.
 * `npx tsx bench/startup.bench.ts [--runs 5]`
 *
 * Per entry: `--help` wall time, and a real run of examples/leads.csv against the sandbox on loopback through a
 * logging proxy: when the first HTTP request arrives (the preflight batch), when the next one arrives (the
 * run's first diff read), and when the process exits. Best of N runs (the machine is shared: the best is the
 * least disturbed). Runs twice: with the portal's default limits (a fresh run's RateLimiter starts with an
 * empty bucket, so the pacer holds nothing back; the two figures show it does), and with `--rate 1000`, which
 * leaves only the startup cost whatever the pacer does. Target: that first request within 0.5 s of the start.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { referencedIds } from '../harness/main.ts';
import { randomLeads, startSandbox } from '../harness/sandbox/portal.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const HEAP = ['--max-old-space-size=128', '--max-semi-space-size=4'];
const ENTRIES: Record<string, string[]> = {
  tsx: [...HEAP, '--import', TSX, join(ROOT, 'lambda/cli/main.ts')],
  built: [...HEAP, join(ROOT, 'bin/b24-lead-import.js')],
};
const i = process.argv.indexOf('--runs');
const RUNS = i >= 0 ? Number(process.argv[i + 1]) : 3;
/** CLI flags that take the pacer's cold-start wait out of the figure. */
const NO_START_WAIT = ['--rate', '1000'];
const EXAMPLE = join(ROOT, 'examples/leads.csv');

/** Milliseconds from spawn to a clean exit. */
function timed(args: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done(performance.now() - t0) : fail(new Error(`${args.at(-1)} exited ${code}`))));
  });
}

/** A proxy in front of the sandbox that notes when each request arrives (performance.now()). */
async function loggingProxy(target: string, arrivals: number[]): Promise<{ url: string; close: () => void }> {
  const server = http.createServer(async (req, res) => {
    arrivals.push(performance.now());
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

interface RunFigures {
  firstRequestMs: number;
  afterPreflightMs: number;
  exitMs: number;
}

/** One real run of the example on a fresh sandbox (every row changes, so it writes). */
async function realRun(args: string[], out: string): Promise<RunFigures> {
  const sb = await startSandbox({});
  const ids = referencedIds(await readFile(EXAMPLE, 'utf8'));
  sb.seedLeads(randomLeads(ids.length, 7).map((lead, k) => ({ ...lead, ID: ids[k] })));
  const arrivals: number[] = [];
  const proxy = await loggingProxy(sb.url, arrivals);
  try {
    const webhook = sb.webhookUrl.replace(sb.url, proxy.url);
    const t0 = performance.now();
    const exitMs = await timed([...args, EXAMPLE, '--out', out], { BITRIX24_WEBHOOK_URL: webhook, B24_LOCAL_MODE: '1' });
    const refused = Object.values(sb.stats().refusals).reduce((a, b) => a + b, 0);
    if (refused > 0) throw new Error(`the sandbox refused ${refused} requests: the figures would include retries`);
    // The preflight is one batch (crm.lead.fields + the status lists); the next request is the run's own.
    return { firstRequestMs: arrivals[0] - t0, afterPreflightMs: arrivals[1] - t0, exitMs };
  } finally {
    proxy.close();
    await sb.close();
  }
}

const best = (xs: number[]) => Math.round(Math.min(...xs));
const dir = await mkdtemp(join(tmpdir(), 'startup-bench-'));
try {
  const figures: Record<string, Record<string, number>> = {};
  for (const [name, args] of Object.entries(ENTRIES)) {
    const help: number[] = [];
    const runs: RunFigures[] = [];
    const fast: RunFigures[] = [];
    for (let r = 0; r < RUNS; r++) help.push(await timed([...args, '--help'], {}));
    for (let r = 0; r < RUNS; r++) runs.push(await realRun(args, join(dir, `${name}-${r}`)));
    for (let r = 0; r < RUNS; r++) fast.push(await realRun([...args, ...NO_START_WAIT], join(dir, `${name}-fast-${r}`)));
    figures[name] = {
      helpMs: best(help),
      firstRequestMs: best(runs.map((x) => x.firstRequestMs)),
      afterPreflightMs: best(runs.map((x) => x.afterPreflightMs)),
      runExitMs: best(runs.map((x) => x.exitMs)),
      noStartWaitFirstRequestMs: best(fast.map((x) => x.firstRequestMs)),
      noStartWaitAfterPreflightMs: best(fast.map((x) => x.afterPreflightMs)),
      noStartWaitRunExitMs: best(fast.map((x) => x.exitMs)),
    };
  }
  console.log(JSON.stringify({ runs: RUNS, bestOfRunsMs: figures }, null, 2));
  const ok = figures.built.noStartWaitFirstRequestMs <= 500;
  console.log(ok ? 'startup bench: target met (first request ≤ 500 ms)' : 'startup bench: TARGET MISSED');
  process.exitCode = ok ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
