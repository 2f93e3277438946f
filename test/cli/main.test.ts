import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'lambda', 'cli', 'main.ts');
/** tsx's loader by absolute URL: the child runs in a temp folder, outside the repository's node_modules. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process through tsx, as `npm run cli` does. */
function cli(args: string[], env: Record<string, string> = {}, entry: string[] = ['--import', TSX, CLI]): Promise<Result> {
  const { BITRIX24_WEBHOOK_URL: _drop, ...base } = process.env;
  return new Promise((done) => {
    execFile(process.execPath, [...entry, ...args], { cwd: dir, env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function file(name: string, content: string | Buffer): Promise<string> {
  await writeFile(join(dir, name), content);
  return name;
}

const summaryOf = async (out: string) => JSON.parse(await readFile(join(dir, out, 'summary.json'), 'utf8'));

describe('b24-lead-import CLI', () => {
  it('--help prints usage, the output folder default and the exit codes; exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: b24-lead-import <file\.csv>/);
    expect(r.stdout).toMatch(/--dry-run/);
    expect(r.stdout).toMatch(/leads\.csv → leads-report\//);
    expect(r.stdout).toMatch(/BITRIX24_WEBHOOK_URL/);
    expect(r.stdout).toMatch(/2 {2}the file was refused/);
  });

  it('the bundled example is clean: a dry run exits 0 with every row valid', async () => {
    const r = await cli([join(ROOT, 'examples', 'leads.csv'), '--dry-run', '--out', 'clean-example']);
    expect(r.code).toBe(0);
    expect(await summaryOf('clean-example')).toMatchObject({ rows: 200, complete: true, counts: { valid: 200, invalid: 0 } });
  });

  it('a clean file in a dry run: exit 0, report beside the input in <name>-report/', async () => {
    await file('clean.csv', 'ID;TITLE;PHONE_MOBILE\r\n1;Acme, Inc.;+1 555 0100\r\n2;"Multi\r\nline";\r\n');
    const r = await cli(['clean.csv', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rows: 2 \(valid 2\)/);
    expect(r.stdout).toContain(join(dir, 'clean-report', 'report.csv'));
    expect(await readFile(join(dir, 'clean-report', 'report.csv'), 'utf8')).toBe(
      'line,id,status,error_code,error_message,attempts\r\n2,1,valid,,,0\r\n3,2,valid,,,0\r\n',
    );
    expect(await summaryOf('clean-report')).toMatchObject({ rows: 2, dryRun: true, complete: true, counts: { valid: 2 } });
  });

  it('the example with mistakes: exit 1, invalid rows reported and in rejected.csv', async () => {
    const example = join(ROOT, 'examples', 'leads-with-mistakes.csv');
    const r = await cli([example, '--dry-run', '--out', 'example-out']);
    expect(r.code).toBe(1);
    const summary = await summaryOf('example-out');
    expect(summary.rows).toBe(200);
    expect(summary.counts.invalid).toBeGreaterThan(0);
    const report = (await readFile(join(dir, 'example-out', 'report.csv'), 'utf8')).trimEnd().split('\r\n');
    expect(report).toHaveLength(201);
    const rejected = (await readFile(join(dir, 'example-out', 'rejected.csv'), 'utf8')).trimEnd().split('\r\n');
    expect(rejected[0]).toBe((await readFile(example, 'utf8')).split('\r\n')[0]);
    expect(rejected).toHaveLength(1 + summary.counts.invalid);
  });

  it('an empty file is refused: exit 2, reason printed and in summary.json', async () => {
    await file('empty.csv', '');
    const r = await cli(['empty.csv', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused: EMPTY_FILE/);
    expect(await summaryOf('empty-report')).toMatchObject({ refused: { code: 'EMPTY_FILE' }, rows: 0, complete: false });
  });

  it('a UTF-16 file is refused with exit 2', async () => {
    await file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ID,TITLE\r\n1,a\r\n', 'utf16le')]));
    const r = await cli(['utf16.csv', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/UNSUPPORTED_ENCODING/);
  });

  it('a header-only file is a successful run of zero rows: exit 0', async () => {
    await file('header.csv', 'ID,TITLE\r\n');
    const r = await cli(['header.csv', '--dry-run']);
    expect(r.code).toBe(0);
    expect(await summaryOf('header-report')).toMatchObject({ rows: 0, complete: true });
  });

  it('an unclosed quote mid-file: exit 1, earlier rows reported, cutShort in the summary', async () => {
    await file('broken.csv', 'ID,TITLE\n1,a\n2,"b\n3,c\n');
    const r = await cli(['broken.csv', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cut short: .*line 3/);
    const summary = await summaryOf('broken-report');
    expect(summary.cutShort).toMatchObject({ line: 3 });
    expect(summary.rows).toBe(1);
  });

  it('windows-1251 with tab delimiter and a mapping file', async () => {
    await file('map.json', JSON.stringify({ Номер: 'ID', Название: 'TITLE' }));
    await file('ru.csv', iconv.encode('Номер\tНазвание\r\n5\tЗаявка с сайта\r\nпять\tОшибка\r\n', 'win1251'));
    const r = await cli([
      'ru.csv',
      '--dry-run',
      '--map',
      'map.json',
      '--delimiter',
      'tab',
      '--encoding',
      'windows-1251',
      '--out',
      'ru-out',
    ]);
    expect(r.code).toBe(1);
    const report = await readFile(join(dir, 'ru-out', 'report.csv'), 'utf8');
    expect(report).toContain('2,5,valid');
    expect(report).toContain('3,пять,invalid,INVALID_ID');
    const rejected = await readFile(join(dir, 'ru-out', 'rejected.csv'));
    expect(rejected.equals(iconv.encode('Номер\tНазвание\r\nпять\tОшибка\r\n', 'win1251'))).toBe(true);
  });

  it('without --dry-run the webhook variable is required: exit 2 with a clear message', async () => {
    await file('live.csv', 'ID,TITLE\n1,a\n');
    const r = await cli(['live.csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BITRIX24_WEBHOOK_URL is not set/);
  });

  it('a portal that cannot be opened is a run failure whose message never shows the webhook secret', async () => {
    await file('live2.csv', 'ID,TITLE\n1,a\n');
    const url = 'https://127.0.0.1:9/rest/1/s3cr3tt0ken/';
    // --outage-wait 0: an unreachable portal is not waited out (by default the run waits up to 6 h).
    const r = await cli(['live2.csv', '--outage-wait', '0'], { BITRIX24_WEBHOOK_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not open the portal/);
    // Every row still has its line.
    expect(await readFile(join(dir, 'live2-report', 'report.csv'), 'utf8')).toMatch(/^line,id,status[^\n]*\r\n2,1,skipped,RUN_FAILED,/);
    expect(r.stdout + r.stderr).not.toContain('s3cr3tt0ken');
    const summary = await readFile(join(dir, 'live2-report', 'summary.json'), 'utf8');
    expect(summary).not.toContain('s3cr3tt0ken');
    expect(JSON.parse(summary)).toMatchObject({ complete: false, error: { code: 'PORTAL_UNAVAILABLE' } });
  });

  it('bad flags are exit 2 with a message naming the flag', async () => {
    await file('f.csv', 'ID\n1\n');
    const unknown = await cli(['f.csv', '--dry-run', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--bogus/);
    const rate = await cli(['f.csv', '--dry-run', '--rate', 'fast']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--rate: "fast" is not a number/);
    const conc = await cli(['f.csv', '--dry-run', '--concurrency', '99']);
    expect(conc.code).toBe(2);
    expect(conc.stderr).toMatch(/--concurrency/);
    const enc = await cli(['f.csv', '--dry-run', '--encoding', 'koi8-r']);
    expect(enc.code).toBe(2);
    expect(enc.stderr).toMatch(/--encoding/);
    const none = await cli(['--dry-run']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no input file/);
  });

  it('the installed bin runs the same CLI', async () => {
    const r = await cli(['--help'], {}, [join(ROOT, 'bin', 'b24-lead-import.js')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: b24-lead-import/);
  });
});
