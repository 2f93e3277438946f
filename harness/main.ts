/**
 * `npm start`: the product end to end on this machine, offline. A local S3 server (s3rver, data in
 * .local/s3/) and the sandbox portal start; the example CSV (or the files given: `npm start -- my.csv`, or
 * CSV files dropped into .local/s3/leads/incoming/) is uploaded to incoming/; the S3 event s3rver emits
 * goes to the real start handler, and the local state machine loops the real chunk and finalize handlers.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3EventRecord } from 'aws-lambda';
import { S3Store } from '../lambda/stores/s3Store.ts';
import type { StartResult } from '../lambda/aws/startHandler.ts';
import { exitCodeFor, STATUSES } from '../lambda/report/lines.ts';
import type { PublishInput } from '../lambda/aws/runMail.ts';
import { randomLeads, startSandbox } from './sandbox/portal.ts';
import type { RunState, Summary } from '../lambda/run/state.ts';
import { createLocalFlow } from './flow/localFlow.ts';
import { LocalTopic, localCopySigner } from './flow/localRunEnd.ts';
import { startLocalS3 } from './localS3.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LOCAL_BUCKET = 'leads';
const EXAMPLE = join(ROOT, 'examples/leads.csv');

interface Args {
  files: string[];
  dryRun: boolean;
  dataDir: string;
}

function parseArgs(argv: string[]): Args {
  const files = argv.filter((a) => !a.startsWith('--'));
  return { files, dryRun: argv.includes('--dry-run'), dataDir: join(ROOT, '.local/s3') };
}

/** The lead IDs a CSV names in its first column, so the sandbox holds those leads. */
export function referencedIds(csv: string): number[] {
  const ids = new Set<number>();
  for (const m of csv.matchAll(/^"?(\d{1,9})"?[,;\t]/gm)) ids.add(Number(m[1]));
  return [...ids];
}

/** CSV files someone dropped straight into the bucket folder (s3rver keeps its own objects as `*._S3rver_*`). */
async function droppedFiles(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, LOCAL_BUCKET, 'incoming');
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.toLowerCase().endsWith('.csv')).map((n) => join(dir, n));
}

/** Where `npm start` keeps its data and writes (tests: a temp folder and captured lines). */
export interface MainIo {
  /** The local S3's folder (default .local/s3); copies for the message's links go beside it, in reports/. */
  dataDir?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Sees each request finalize publishes to the local topic (tests: a fake SNS edge). */
  onMail?: (input: PublishInput) => void;
}

export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  // The SDK warns on every run that its 2027 releases need Node 22: the lockfile pins releases that run on 20
  // (Lambda runs 22), so the warning is noise for a person running the tool.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = { ...parseArgs(argv), ...(io.dataDir ? { dataDir: io.dataDir } : {}) };
  const out = io.out ?? ((s: string) => void process.stdout.write(s + '\n'));
  const err = io.err ?? ((s: string) => void process.stderr.write(s + '\n'));

  const dropped = args.files.length === 0 ? await droppedFiles(args.dataDir) : [];
  const inputs = args.files.length > 0 ? args.files.map((f) => resolve(f)) : [EXAMPLE, ...dropped];

  const s3 = await startLocalS3({ directory: args.dataDir, buckets: [LOCAL_BUCKET] });
  // Portal defaults (2 req/s, burst 50), as a Standard plan portal: the example fits in the burst.
  const sandbox = await startSandbox({});
  try {
    for (const file of inputs) {
      const text = await readFile(file, 'utf8');
      const ids = referencedIds(text).filter((id) => !sandbox.lead(id));
      const leads = randomLeads(ids.length, 7);
      sandbox.seedLeads(leads.map((lead, i) => ({ ...lead, ID: ids[i] })));
    }

    const sizes = new Map<string, number>();
    // Finalize mails each run's message as a deployed stack with notifyEmail does; its links are local copies.
    const topic = new LocalTopic(io.onMail);
    const flow = createLocalFlow({
      runEnd: {
        mail: { sns: topic, topicArn: LocalTopic.ARN },
        sign: localCopySigner((bucket) => new S3Store(s3.client, bucket), join(args.dataDir, '..', 'reports')),
      },
      client: s3.client,
      webhookUrl: sandbox.webhookUrl,
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN', ...(args.dryRun ? { DRY_RUN: 'true' } : {}) },
      onChunk: (state: RunState) => {
        const size = sizes.get(state.runId) ?? state.source.size;
        const pct = size > 0 ? Math.round((100 * state.checkpoint.offset) / size) : 100;
        err(`  ${state.source.key}: ${state.checkpoint.rows} rows (${pct}%)${state.checkpoint.done ? ', finalizing' : ''}`);
      },
    });

    // Every object created in the bucket reaches the start handler, as the S3 notification would (parts/
    // and reports/ writes included: the handler ignores keys outside incoming/).
    const starts: Array<Promise<StartResult>> = [];
    s3.onObjectCreated((record: S3EventRecord) => {
      const started = flow.start({ Records: [record] });
      started.catch(() => undefined);
      starts.push(started);
    });

    const store = new S3Store(s3.client, LOCAL_BUCKET);
    for (const file of inputs) {
      const key = `incoming/${basename(file)}`;
      out(`uploading ${file} → s3://${LOCAL_BUCKET}/${key}`);
      await store.write(key, await readFile(file), 'text/csv');
      // A dropped file is now an object in the bucket; remove the loose copy so it is not imported again.
      if (dropped.includes(file)) await rm(file);
    }

    const runs: StartResult['runs'] = [];
    for (let i = 0; i < starts.length; i++) runs.push(...(await starts[i]).runs.filter((r) => r.status !== 'ignored'));
    if (runs.length === 0) {
      err('no run started (only incoming/*.csv objects start a run)');
      return 2;
    }

    let code = 0;
    for (const run of runs) {
      if (run.status === 'duplicate') {
        out(`s3://${LOCAL_BUCKET}/${run.key}: already imported (run ${run.runId}); its report is under reports/`);
        continue;
      }
      const execution = flow.stateMachine.executions.get(run.executionName!)!;
      let summary: Summary;
      try {
        summary = await execution.result;
      } catch (e) {
        err(`s3://${LOCAL_BUCKET}/${run.key}: the run could not write its report: ${(e as Error).message}`);
        code = Math.max(code, 1);
        continue;
      }
      printSummary(out, summary, (key) => s3.pathOf(LOCAL_BUCKET, key));
      // The message a deployed run mails, as finalize published it.
      const mail = topic.published(summary.runId);
      if (mail) out(`\n${mail.Message}`);
      else err(`s3://${LOCAL_BUCKET}/${run.key}: finalize published no run-end message`);
      code = Math.max(code, execution.error ? 1 : exitCodeFor(summary));
    }
    out(`portal: ${sandbox.url} (sandbox; leads updated: ${sandbox.stats().writes})`);
    return code;
  } finally {
    await sandbox.close();
    await s3.close();
  }
}

function printSummary(out: (s: string) => void, s: Summary, localPath: (key: string) => string): void {
  out(`\n${s.source}${s.dryRun ? ' (dry run)' : ''}`);
  if (s.refused) out(`  refused: ${s.refused.code}: ${s.refused.message}`);
  const counts = STATUSES.filter((st) => (s.counts[st] ?? 0) > 0).map((st) => `${st} ${s.counts[st]}`);
  out(`  rows: ${s.rows}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`);
  const codes = Object.entries(s.errorCodes).map(([c, n]) => `${c} ${n}`);
  if (codes.length > 0) out(`  codes: ${codes.join(', ')}`);
  if (s.cutShort) out(`  cut short: ${s.cutShort.message}`);
  if (s.halted) out(`  halted: ${s.halted.code}: ${s.halted.message}`);
  if (s.error) out(`  run failed: ${s.error.code}: ${s.error.message}`);
  if (s.requests > 0) out(`  requests: ${s.requests}, retries: ${s.retries}`);
  for (const [name, key] of Object.entries(s.report)) {
    out(`  ${(name + ':').padEnd(9)} s3://${LOCAL_BUCKET}/${key}\n             ${localPath(key)}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`npm start: ${(e as Error)?.message ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
