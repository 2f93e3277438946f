/**
 * The built entry (bin → dist/cli.mjs, esbuild) against the TypeScript sources through tsx: the build step
 * leaves the bundle, and both answer --help and dry runs alike (offline, and with the sandbox portal, which loads
 * the lazily split client chunk). Timings are bench/startup.bench.ts's job, not asserted here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ENTRIES = {
  tsx: ['--import', TSX, join(ROOT, 'lambda/cli/main.ts')],
  built: [join(ROOT, 'bin/b24-lead-import.js')],
};
const EXAMPLE = join(ROOT, 'examples/leads.csv');
let dir: string;
let sb: Sandbox;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(entry: string[], args: string[], env: Record<string, string> = {}): Promise<Result> {
  const { BITRIX24_WEBHOOK_URL: _drop, ...base } = process.env;
  return new Promise((done) => {
    execFile(process.execPath, [...entry, ...args], { cwd: dir, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** What two runs must share: the text without the speed line and the output folder's name. */
const comparable = (text: string, out: string) =>
  text
    .replace(/^ {2}speed: .*\n/m, '')
    .replaceAll(join(dir, out), '<out>')
    .replaceAll(sb.url, '<portal>');

/** The report files, without what differs from run to run (times, speed, time spent pacing). */
async function reportOf(out: string): Promise<Record<string, unknown>> {
  const files: Record<string, unknown> = {};
  for (const name of ['report.csv', 'rejected.csv', 'plan.csv']) {
    const path = join(dir, out, name);
    if (existsSync(path)) files[name] = await readFile(path, 'utf8');
  }
  const path = join(dir, out, 'summary.json');
  if (!existsSync(path)) return files; // refused on the command line: no report at all
  const {
    runId: _r,
    startedAt: _s,
    finishedAt: _f,
    rowsPerSecond: _p,
    throttledMs: _t,
    ...summary
  } = JSON.parse(await readFile(path, 'utf8'));
  return { ...files, summary };
}

/** Runs `args` (the output folder last-but-one as `--out NAME`) through both entries and compares. */
async function same(args: (out: string) => string[], env: Record<string, string> = {}): Promise<Result> {
  const [a, b] = [await run(ENTRIES.tsx, args('tsx-out'), env), await run(ENTRIES.built, args('built-out'), env)];
  expect(b.code).toBe(a.code);
  expect(comparable(b.stdout, 'built-out')).toBe(comparable(a.stdout, 'tsx-out'));
  expect(comparable(b.stderr, 'built-out')).toBe(comparable(a.stderr, 'tsx-out'));
  expect(await reportOf('built-out')).toEqual(await reportOf('tsx-out'));
  await rm(join(dir, 'tsx-out'), { recursive: true, force: true });
  await rm(join(dir, 'built-out'), { recursive: true, force: true });
  return b;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'startup-'));
  sb = await startSandbox({});
  // The build step (`npm ci`'s prepare, `npm run build`); not a clean build, so a bench using dist/ is not disturbed.
  const { build } = await import(pathToFileURL(join(ROOT, 'scripts/build.mjs')).href);
  await build({ quiet: true });
}, 120_000);
afterAll(async () => {
  await sb?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the built CLI entry', () => {
  it('the build step leaves dist/cli.mjs (ESM, source map beside it) and the lazily loaded client chunk', async () => {
    expect(existsSync(join(ROOT, 'dist/cli.mjs'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist/cli.mjs.map'))).toBe(true);
    const text = await readFile(join(ROOT, 'dist/cli.mjs'), 'utf8');
    expect(text).toMatch(/export\s*\{[^}]*\bmain\b/);
    expect(text).toMatch(/import\("\.\/chunks\/session-[A-Z0-9]+\.mjs"\)/);
  });

  it('--help prints the same usage as the tsx entry; exit 0', async () => {
    const [a, b] = [await run(ENTRIES.tsx, ['--help']), await run(ENTRIES.built, ['--help'])];
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(b.stdout).toMatch(/Usage: b24-lead-import <file\.csv>/);
  });

  it('an offline dry run of the example prints and writes what the tsx entry does', async () => {
    const r = await same((out) => [EXAMPLE, '--dry-run', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid 200/);
  });

  it('a dry run with invalid rows and a usage error answer alike', async () => {
    await writeFile(join(dir, 'bad.csv'), 'ID;TITLE;OPPORTUNITY\n1;ok;10\nx;bad id;1\n2;;12abc\n');
    expect((await same((out) => ['bad.csv', '--dry-run', '--out', out])).code).toBe(1);
    expect((await same(() => ['--bogus'])).code).toBe(2);
  });

  it('a dry run against the sandbox portal (the client chunk loads) previews the same plan', async () => {
    sb.seedLeads([{ ID: 1, TITLE: 'old' }]);
    await writeFile(join(dir, 'one.csv'), 'ID;TITLE\n1;new\n');
    const r = await same((out) => ['one.csv', '--dry-run', '--out', out], { BITRIX24_WEBHOOK_URL: sb.webhookUrl, B24_LOCAL_MODE: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/offline/); // the portal was reached: the chunk loaded and ran
    expect(await readFile(join(ROOT, 'dist/cli.mjs'), 'utf8')).not.toMatch(/crm\.lead\.fields/);
  });
});
