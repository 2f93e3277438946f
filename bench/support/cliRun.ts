/**
 * Benches that drive the importer the way a real run does: the built CLI (bin/b24-lead-import.js) in its own
 * process against a sandbox portal in the bench's process, reading a CSV file written here.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Sandbox } from '../../harness/sandbox/portal.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/b24-lead-import.js');

/** What a CLI run left: its exit code, wall seconds (spawn to exit) and summary.json. */
export interface CliRun {
  code: number;
  seconds: number;
  summary: { rows: number; counts: Record<string, number>; requests: number; retries: number; throttledMs: number } & Record<
    string,
    unknown
  >;
  stderr: string;
}

/**
 * Seeds `n` leads and writes a CSV that changes two fields (TITLE, NAME) of each, in order; returns the path.
 * The diff planner reads each lead first, so every row is one crm.lead.update of exactly those two fields.
 */
export async function twoFieldImport(sb: Sandbox, n: number, dir: string): Promise<string> {
  const ids = sb.seedLeads(Array.from({ length: n }, (_, i) => ({ TITLE: `old title ${i}`, NAME: `Old${i}` })));
  const lines = ids.map((id, i) => `${id};new title ${i};New${i}`);
  const file = join(dir, `leads-${n}.csv`);
  await writeFile(file, `ID;TITLE;NAME\n${lines.join('\n')}\n`);
  return file;
}

/**
 * Rebuilds dist/ first when lambda/ changed since the last build (the CLI would otherwise rebuild it inside
 * the timed run: ~45 s on a loaded machine, counted as the import's time).
 */
async function freshBuild(): Promise<void> {
  const entry = (await import(pathToFileURL(join(ROOT, 'scripts/entry.mjs')).href)) as { isStale(): boolean };
  if (!entry.isStale()) return;
  const { build } = (await import(pathToFileURL(join(ROOT, 'scripts/build.mjs')).href)) as { build(o: { quiet: boolean }): Promise<void> };
  await build({ quiet: true });
}

/** Runs the CLI on `file` with `flags` against `webhookUrl`; `onTick` is called every `tickMs` while it runs. */
export async function runCli(
  file: string,
  flags: string[],
  webhookUrl: string,
  onTick?: (seconds: number) => void,
  tickMs = 30_000,
): Promise<CliRun> {
  const out = `${file}-report`;
  await freshBuild();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--max-old-space-size=128', '--max-semi-space-size=4', BIN, file, '--out', out, ...flags], {
    cwd: ROOT,
    // B24_LOCAL_MODE: the client reaches a loopback (sandbox) webhook only in local mode.
    env: { ...process.env, BITRIX24_WEBHOOK_URL: webhookUrl, B24_LOCAL_MODE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const tick = onTick ? setInterval(() => onTick((performance.now() - t0) / 1000), tickMs) : undefined;
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', async (code) => {
      clearInterval(tick);
      const seconds = (performance.now() - t0) / 1000;
      try {
        const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
        done({ code: code ?? -1, seconds, summary, stderr });
      } catch (e) {
        fail(new Error(`the CLI exited ${code} without a summary: ${(e as Error).message}\n${stderr}`));
      }
    });
  });
}

/** The portal's refusals of this run: 429 OPERATION_TIME_LIMIT and 503 QUERY_LIMIT_EXCEEDED (whole requests or batch commands). */
export function refusals(sb: Sandbox): { http429: number; http503: number } {
  const r = sb.stats().refusals;
  return { http429: r.OPERATION_TIME_LIMIT ?? 0, http503: (r.QUERY_LIMIT_EXCEEDED ?? 0) + (r.OVERLOAD_LIMIT ?? 0) };
}

/** The figures every CLI bench prints: the command, rows updated, wall time, rate, requests and refusals. */
export function runFigures(run: CliRun, sb: Sandbox, flags: readonly string[], rows: number) {
  return {
    command: `b24-lead-import leads.csv ${flags.join(' ')}`.trim(),
    rows,
    updated: run.summary.counts.updated ?? 0,
    exit: run.code,
    wallSeconds: Number(run.seconds.toFixed(1)),
    rowsPerS: Number((rows / run.seconds).toFixed(2)),
    requests: sb.stats().requests,
    ...refusals(sb),
    retries: run.summary.retries,
  };
}

/** A progress line for long benches. */
export function progress(sb: Sandbox, rows: number): (seconds: number) => void {
  return (s) => {
    const w = sb.stats().writes;
    console.log(
      `  … ${w}/${rows} rows written in ${s.toFixed(0)} s (${(w / s).toFixed(1)} rows/s), operating ${JSON.stringify(sb.stats().operating)}`,
    );
  };
}
