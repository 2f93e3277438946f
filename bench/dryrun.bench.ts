/**
 * The CLI's dry run on 1,000,000 and 2,000,000 realistic rows: rows/s and peak RSS (memory must stay flat).
 * `npx tsx bench/dryrun.bench.ts [rows…]`. Files are generated once into bench/.data/ (gitignored).
 *
 * Each run is a child process calling the CLI's `main` (the same code path as `b24-lead-import --dry-run`),
 * so its peak RSS (process.resourceUsage().maxRSS) is that run's alone: once with the heap cap the bin uses,
 * once with node's defaults (V8 then lets garbage pile up to ~90 MB of heap before collecting, though the live
 * data stays ~20 MB). Beside it, csv-parse alone on the same file at the same moment: the machine is shared,
 * so the ratio is the fair figure.
 * Targets: ≥ 40,000 rows/s and < 150 MB peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'csv-parse';

const HERE = dirname(fileURLToPath(import.meta.url));
const DATA = join(HERE, '.data');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const FIRST = ['Ivan', 'Мария', 'Anna', 'John', 'Олег', 'Sofia', 'Lucas', 'Priya'];
const LAST = ['Petrov', 'Иванова', 'Smith', 'Garcia', 'Novak', 'Tanaka', 'Müller', 'Silva'];
const COMPANIES = ['Acme Logistics', '"Vostok" Ltd', 'Blue Ocean, Inc.', 'ООО «Ромашка»', 'Kraft & Sons', 'Helios Energy'];
const STATUSES = ['NEW', 'IN_PROCESS', 'PROCESSED', 'JUNK'];
const SOURCES = ['CALL', 'EMAIL', 'WEB', 'PARTNER', 'TRADE_SHOW'];

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** One realistic row: 13 columns, quoted commas/quotes/newlines now and then, ~1 % invalid. */
function row(i: number): string {
  const first = FIRST[i % FIRST.length];
  const last = LAST[(i * 7) % LAST.length];
  const company = COMPANIES[(i * 3) % COMPANIES.length];
  const cells = [
    i % 211 === 0 ? `L-${i}` : String(100000 + i),
    `${company} — inquiry #${i}`,
    first,
    last,
    company,
    i % 5 === 0 ? '' : `+7 (912) ${String(100 + (i % 900))}-${String(10 + (i % 90))}-${String(10 + ((i * 7) % 90))}`,
    i % 149 === 0 ? `user${i}@` : `user${i}@example.com`,
    STATUSES[i % STATUSES.length],
    SOURCES[i % SOURCES.length],
    i % 3 === 0 ? '' : `${(i % 5000) * 10}.50`,
    i % 3 === 0 ? '' : 'USD',
    String(1 + (i % 9)),
    i % 10 === 0 ? `Called on ${1 + (i % 28)}.03, asked for "premium"\nfollow up next week` : '',
  ];
  return cells.map(quote).join(',');
}

async function generate(rows: number): Promise<string> {
  const file = join(DATA, `leads-${rows}.csv`);
  if (existsSync(file) && statSync(file).size > rows * 50) return file;
  await mkdir(DATA, { recursive: true });
  const out = createWriteStream(file);
  out.write(
    'ID,TITLE,NAME,LAST_NAME,COMPANY_TITLE,PHONE_MOBILE,EMAIL_WORK,STATUS_ID,SOURCE_ID,OPPORTUNITY,CURRENCY_ID,ASSIGNED_BY_ID,COMMENTS\r\n',
  );
  let batch = '';
  for (let i = 1; i <= rows; i++) {
    batch += row(i) + '\r\n';
    if (i % 10_000 === 0) {
      if (!out.write(batch)) await new Promise<void>((r) => out.once('drain', () => r()));
      batch = '';
    }
  }
  out.end(batch);
  await finished(out);
  return file;
}

interface Figures {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  maxRssMb: number;
  exitCode?: number;
}

/** Child: the CLI's dry run on one file. */
async function childDryRun(file: string): Promise<Figures> {
  const { main } = await import('../lambda/cli/main.ts');
  const out = `${file}.report`;
  await rm(out, { recursive: true, force: true });
  let printed = '';
  const io = {
    stdout: { write: (s: string) => (printed += s) },
    stderr: { write: (s: string) => (printed += s) },
    env: {},
    cwd: process.cwd(),
  };
  const t0 = performance.now();
  const exitCode = await main([file, '--dry-run', '--out', out], io);
  const seconds = (performance.now() - t0) / 1000;
  const rows = Number(/rows: (\d+)/.exec(printed)?.[1] ?? 0);
  await rm(out, { recursive: true, force: true });
  return { rows, seconds, rowsPerSecond: Math.round(rows / seconds), maxRssMb: process.resourceUsage().maxRSS / 1024, exitCode };
}

/** Child: csv-parse alone (default options, streamed), for comparison at the same moment. */
async function childParseOnly(file: string): Promise<Figures> {
  const t0 = performance.now();
  let rows = -1;
  for await (const _ of createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(parse({ relax_column_count: true }))) rows++;
  const seconds = (performance.now() - t0) / 1000;
  return { rows, seconds, rowsPerSecond: Math.round(rows / seconds), maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

/**
 * The heap limits bin/b24-lead-import.js (its shebang) and `npm run cli` run with: live data stays ~20 MB, but V8
 * otherwise lets garbage pile up; small semi-spaces (young generation) cut ~40 MB of peak RSS at the same speed.
 */
const BIN_FLAGS = ['--max-old-space-size=128', '--max-semi-space-size=4'];

function inChild(mode: string, file: string, nodeFlags: string[] = []): Figures {
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', TSX, fileURLToPath(import.meta.url), mode, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode} ${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

const argv = process.argv.slice(2);
if (argv[0] === '--dry-run-child' || argv[0] === '--parse-child') {
  const figures = argv[0] === '--dry-run-child' ? await childDryRun(argv[1]) : await childParseOnly(argv[1]);
  console.log(JSON.stringify(figures));
} else {
  const sizes = argv.length > 0 ? argv.map(Number) : [1_000_000, 2_000_000];
  const fmt = (n: number) => n.toLocaleString('en-US');
  const line = (label: string, f: Figures) =>
    `  ${label.padEnd(44)} ${f.seconds.toFixed(1).padStart(5)} s  ${fmt(f.rowsPerSecond).padStart(8)} rows/s  peak RSS ${f.maxRssMb.toFixed(0)} MB`;
  for (const size of sizes) {
    const file = await generate(size);
    const mb = (statSync(file).size / 1024 / 1024).toFixed(0);
    const viaBin = inChild('--dry-run-child', file, BIN_FLAGS);
    const defaults = inChild('--dry-run-child', file);
    const parseOnly = inChild('--parse-child', file);
    if (viaBin.rows !== size || defaults.rows !== size) throw new Error(`expected ${size} rows, got ${viaBin.rows} / ${defaults.rows}`);
    console.log(`dry run, ${fmt(size)} rows (${mb} MB), the CLI's main() under tsx:`);
    console.log(line(`bin / npm run cli (${BIN_FLAGS.join(' ')})`, viaBin));
    console.log(line('node defaults', defaults));
    console.log(
      line('csv-parse alone, same moment', parseOnly) +
        `  → dry run at ${(viaBin.rowsPerSecond / parseOnly.rowsPerSecond).toFixed(2)}× csv-parse`,
    );
  }
}
