/**
 * Chunk + finalize through a local S3 server (s3rver), dry run, several chunks per run.
 * `npx tsx bench/chunk.bench.ts [rows…]` (default 500000 1000000).
 *
 * The parent runs s3rver and uploads the files; each size runs in its own child process so its peak RSS
 * (process.resourceUsage().maxRSS) is that run's alone. Flat memory = the same peak for 0.5M and 1M rows.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { S3Store } from '../lambda/stores/s3Store.ts';
import { createLocalFlow } from '../harness/flow/localFlow.ts';
import { localS3Client, startLocalS3 } from '../harness/localS3.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUCKET = 'bench';
const STATUSES = ['NEW', 'IN_PROCESS', 'PROCESSED'];

/** A realistic-ish lead update file, generated as a stream (never whole in memory). */
function leadsCsv(rows: number): Readable {
  return Readable.from(
    (function* () {
      yield 'ID,TITLE,NAME,PHONE_MOBILE,EMAIL_WORK,STATUS_ID,OPPORTUNITY\n';
      let batch = '';
      for (let i = 1; i <= rows; i++) {
        batch += `${i},Lead ${i},Name${i % 977},+1555${String(1_000_000 + i).slice(-7)},lead${i}@example.com,${STATUSES[i % 3]},${(i % 100000) / 100}\n`;
        if (i % 5000 === 0) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    })(),
  );
}

interface ChildResult {
  rows: number;
  ms: number;
  chunks: number;
  maxRssMb: number;
  rowsPerSecond: number;
  valid: number;
}

async function child(endpoint: string, key: string, budgetMs: string): Promise<void> {
  const client = localS3Client(endpoint);
  let chunks = 0;
  const flow = createLocalFlow({
    client,
    env: { LOG_LEVEL: 'WARN', DRY_RUN: 'true', CHUNK_BUDGET_MS: budgetMs, CHUNK_MARGIN_MS: '1' },
    onChunk: () => void chunks++,
  });
  const t0 = performance.now();
  const { runs } = await flow.start({ bucket: BUCKET, key, dryRun: true });
  const summary = await flow.summaryOf(runs[0].executionName!);
  const ms = performance.now() - t0;
  const result: ChildResult = {
    rows: summary.rows,
    ms: Math.round(ms),
    chunks,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rowsPerSecond: Math.round(summary.rows / (ms / 1000)),
    valid: summary.counts.valid ?? 0,
  };
  client.destroy();
  process.stdout.write(JSON.stringify(result) + '\n');
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()!) : reject(new Error(`bench child exited ${code}`))));
  });
}

async function parent(sizes: number[]): Promise<void> {
  const dir = join(HERE, '.data', 's3');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
  const store = new S3Store(s3.client, BUCKET);
  const results: Array<ChildResult & { size: number }> = [];
  try {
    for (const rows of sizes) {
      const key = `incoming/bench-${rows}.csv`;
      await store.write(key, leadsCsv(rows), 'text/csv');
      const size = (await store.head(key)).size;
      // A budget that gives several chunks per run whatever the size (about 7 at ~140k rows/s).
      const budget = String(Math.max(200, Math.round(rows / 1000)));
      // Async spawn: the server in this process must keep answering while the child runs.
      const line = await runChild([...process.execArgv, fileURLToPath(import.meta.url), '--child', s3.endpoint, key, budget]);
      results.push({ ...(JSON.parse(line) as ChildResult), size });
    }
  } finally {
    await s3.close();
  }
  for (const r of results) {
    console.log(
      `${String(r.rows).padStart(8)} rows (${(r.size / 1e6).toFixed(0)} MB): ${r.chunks} chunks, ${r.ms} ms, ${r.rowsPerSecond} rows/s, peak RSS ${r.maxRssMb} MB`,
    );
  }
  if (results.length >= 2) {
    const [a, b] = [results[0], results[results.length - 1]];
    console.log(`peak RSS ${b.rows} vs ${a.rows} rows: ${(b.maxRssMb / a.maxRssMb).toFixed(2)}×`);
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  await child(argv[1], argv[2], argv[3]);
} else {
  await parent(argv.length > 0 ? argv.map(Number) : [500_000, 1_000_000]);
}
