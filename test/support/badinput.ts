import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { expect } from 'vitest';
import type { Summary } from '../../lambda/run/state.ts';

/**
 * Shared by the bad-input and security tests: build a CSV whose records and lines are known by construction,
 * run the real CLI as a child process, and check the promise: one report line per record, in input order,
 * summary counts equal to the report's, rejected.csv holding the raw rows byte for byte.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'lambda', 'cli', 'main.ts');
/** tsx's loader by absolute URL: the child runs in a temp folder, outside the repository's node_modules. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node --import tsx lambda/cli/main.ts …` in `cwd`, with BITRIX24_WEBHOOK_URL only if given. */
export function runCli(cwd: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<CliResult> {
  const { BITRIX24_WEBHOOK_URL: _drop, ...base } = process.env;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...nodeArgs, '--import', TSX, CLI, ...args],
      { cwd, env: { ...base, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A data row as written: its raw text (quoted line breaks allowed) and the line break after it. */
export type RowSpec = string | { raw: string; eol?: string };

export interface Fixture {
  bytes: Buffer;
  /** The line each data record starts on, in order (blank rows are not records). */
  lines: number[];
  /** Record start line → its raw text (without the line break). */
  raw: Map<number, string>;
  headerRaw: string;
  encoding: 'utf-8' | 'windows-1251';
  bom: boolean;
}

function breaks(s: string): number {
  return (s.match(/\r\n|\r|\n/g) ?? []).length;
}

/** Header + rows → file bytes, with each record's start line computed independently of the code under test. */
export function fixture(
  header: string,
  rows: RowSpec[],
  opts: { eol?: string; encoding?: 'utf-8' | 'windows-1251'; bom?: boolean } = {},
): Fixture {
  const eol = opts.eol ?? '\n';
  const encoding = opts.encoding ?? 'utf-8';
  let text = header + eol;
  let line = 1 + breaks(header) + 1;
  const lines: number[] = [];
  const raw = new Map<number, string>();
  for (const r of rows) {
    const spec = typeof r === 'string' ? { raw: r } : r;
    const end = spec.eol ?? eol;
    if (spec.raw !== '') {
      lines.push(line);
      raw.set(line, spec.raw);
    }
    text += spec.raw + end;
    line += breaks(spec.raw) + breaks(end);
  }
  const body = encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'win1251');
  const bom = opts.bom ?? false;
  return { bytes: bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body, lines, raw, headerRaw: header, encoding, bom };
}

export interface ReportRow {
  line: string;
  id: string;
  status: string;
  error_code: string;
  error_message: string;
  attempts: string;
}

export interface RunFiles {
  reportText: string;
  report: ReportRow[];
  rejected: Buffer;
  summaryText: string;
  summary: Summary;
}

export async function readRun(outDir: string): Promise<RunFiles> {
  const reportText = await readFile(join(outDir, 'report.csv'), 'utf8');
  const report = parse(reportText, { columns: true, record_delimiter: '\r\n' }) as ReportRow[];
  const summaryText = await readFile(join(outDir, 'summary.json'), 'utf8');
  return { reportText, report, rejected: await readFile(join(outDir, 'rejected.csv')), summaryText, summary: JSON.parse(summaryText) };
}

/** Every file under `dir`, recursively: path → bytes. */
export async function allFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path, await readFile(path));
  }
  return out;
}

const tally = (values: string[]) => {
  const t: Record<string, number> = {};
  for (const v of values) if (v !== '') t[v] = (t[v] ?? 0) + 1;
  return t;
};

/**
 * The run's promise for the records it reported: exactly one report line per record of `lines` (in input
 * order), summary counts equal to the report's, rejected.csv = the header + the invalid/failed rows' raw bytes.
 */
export function expectConsistent(run: RunFiles, f: Fixture, lines: number[] = f.lines): void {
  expect(run.report.map((r) => Number(r.line))).toEqual(lines);
  expect(run.summary.rows).toBe(run.report.length);
  const counts = tally(run.report.map((r) => r.status));
  for (const [status, n] of Object.entries(run.summary.counts)) expect([status, n]).toEqual([status, counts[status] ?? 0]);
  expect(run.summary.errorCodes).toEqual(tally(run.report.map((r) => r.error_code)));
  const rejectedLines = run.report.filter((r) => r.status === 'invalid' || r.status === 'failed').map((r) => Number(r.line));
  const enc = (s: string) => (f.encoding === 'utf-8' ? Buffer.from(s, 'utf8') : iconv.encode(s, 'win1251'));
  const expected = Buffer.concat([
    f.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0),
    enc(f.headerRaw + '\r\n'),
    ...rejectedLines.map((l) => enc(f.raw.get(l)! + '\r\n')),
  ]);
  expect(
    run.rejected.equals(expected),
    `rejected.csv:\n${run.rejected.toString('latin1')}\nexpected:\n${expected.toString('latin1')}`,
  ).toBe(true);
}

/** Writes a fixture into `dir` and runs a dry run on it; returns the CLI result and the files it wrote. */
export async function dryRun(
  dir: string,
  name: string,
  content: Fixture | Buffer | string,
  extra: string[] = [],
): Promise<CliResult & { files: RunFiles }> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.isBuffer(content) ? content : content.bytes;
  await writeFile(join(dir, name), bytes);
  const out = `${name}.out`;
  const r = await runCli(dir, [name, '--dry-run', '--out', out, ...extra]);
  return { ...r, files: await readRun(join(dir, out)) };
}
