import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRun, expectConsistent, fixture, readRun, runCli } from '../support/badinput.ts';

/**
 * Input limits (bytes, rows, cell size) are configurable on the command line, and a hostile or broken file
 * cannot exhaust the worker: each limit is driven through the CLI as a child process.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'limits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--max-bytes', () => {
  it('a file one byte over is refused before reading (exit 2, FILE_TOO_LARGE naming the flag); at the limit it runs', async () => {
    const f = fixture('ID,TITLE', ['1,a', '2,b']);
    const size = f.bytes.length;
    const over = await dryRun(dir, 'bytes.csv', f, ['--max-bytes', String(size - 1)]);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(
      new RegExp(`refused: FILE_TOO_LARGE: the file is ${size} bytes, over the ${size - 1}-byte limit \\(--max-bytes\\)`),
    );
    expect(over.files.summary).toMatchObject({ rows: 0, refused: { code: 'FILE_TOO_LARGE' } });
    expect(over.files.report).toEqual([]);
    const at = await dryRun(dir, 'bytes.csv', f, ['--max-bytes', String(size)]);
    expect(at.code).toBe(0);
    expectConsistent(at.files, f);
  });

  it('a file far over the limit (5 MB against 1 KB) is refused at once', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `${i + 1},Lead number ${i + 1}`);
    const f = fixture('ID,TITLE', rows);
    expect(f.bytes.length).toBeGreaterThan(2_000_000);
    const r = await dryRun(dir, 'far.csv', f, ['--max-bytes', '1024']);
    expect(r.code).toBe(2);
    expect(r.files.summary.refused!.code).toBe('FILE_TOO_LARGE');
    expect(r.files.rejected.length).toBe(0); // not even the header was read
  });
});

describe('--max-rows', () => {
  it('reading stops after N records: exactly N report lines, the summary says where and why (exit 1)', async () => {
    const f = fixture(
      'ID,TITLE',
      Array.from({ length: 10 }, (_, i) => `${i + 1},t`),
    );
    const r = await dryRun(dir, 'rows.csv', f, ['--max-rows', '3']);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f, f.lines.slice(0, 3));
    expect(r.files.summary).toMatchObject({ rows: 3, complete: false, cutShort: { line: 5 } });
    expect(r.files.summary.cutShort!.message).toMatch(/more than 3 rows \(the limit, --max-rows\): reading stopped at line 5/);
    expect(r.stdout).toMatch(/cut short: .*--max-rows/);
  });

  it('a file of exactly N records is complete', async () => {
    const f = fixture('ID,TITLE', ['1,a', '2,b', '3,c']);
    const r = await dryRun(dir, 'rows3.csv', f, ['--max-rows', '3']);
    expect(r.code).toBe(0);
    expect(r.files.summary.complete).toBe(true);
  });
});

describe('--max-cell-bytes', () => {
  it('counts UTF-8 bytes: 100 bytes pass, 102 bytes (51 × "ж") make the row invalid; the other rows go on', async () => {
    const f = fixture('ID,TITLE', [`1,${'a'.repeat(100)}`, `2,${'ж'.repeat(51)}`, `3,${'ж'.repeat(50)}`]);
    const r = await dryRun(dir, 'cell.csv', f, ['--max-cell-bytes', '100']);
    expect(r.code).toBe(1);
    expectConsistent(r.files, f);
    expect(r.files.report.map((x) => x.error_code)).toEqual(['', 'CELL_TOO_LARGE', '']);
    expect(r.files.report[1].error_message).toBe('line 3, TITLE: the cell is 102 bytes, over the 100-byte limit');
  });

  it('bad values are a usage error naming the flag (exit 2), and --help lists all three limits', async () => {
    await writeFile(join(dir, 'f.csv'), 'ID\n1\n');
    for (const v of ['0', '-1', 'big', '1.5']) {
      const r = await runCli(dir, ['f.csv', '--dry-run', '--max-cell-bytes', v]);
      expect([v, r.code]).toEqual([v, 2]);
      expect(r.stderr).toMatch(/--max-cell-bytes/);
    }
    const help = await runCli(dir, ['--help']);
    for (const flag of ['--max-bytes', '--max-rows', '--max-cell-bytes']) expect(help.stdout).toContain(flag);
  });
});

describe('memory stays bounded', () => {
  it('a 54 MB file of 900 KB cells runs in a 48 MB heap: every big row CELL_TOO_LARGE, every other row valid', async () => {
    // Each big record stays under the record limit, so it is read whole; the engine must not hold many at once.
    const big = 'y'.repeat(900_000);
    const rows = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? `${i + 1},"${big}",c` : `${i + 1},t,c`));
    const f = fixture('ID,TITLE,COMMENTS', rows);
    expect(f.bytes.length).toBeGreaterThan(50_000_000);
    await writeFile(join(dir, 'heavy.csv'), f.bytes);
    const r = await runCli(dir, ['heavy.csv', '--dry-run', '--out', 'heavy.out'], {}, ['--max-old-space-size=48']);
    expect(r.stderr).not.toMatch(/heap out of memory/);
    expect(r.code).toBe(1);
    const run = await readRun(join(dir, 'heavy.out'));
    expect(run.report.map((x) => x.error_code)).toEqual(rows.map((_, i) => (i % 2 === 0 ? 'CELL_TOO_LARGE' : '')));
    expect(run.summary).toMatchObject({ rows: 120, complete: true, counts: { invalid: 60, valid: 60 } });
    // rejected.csv is the 60 big rows, byte for byte (54 MB streamed through, not held).
    expectConsistent(run, f);
  }, 120_000);
});
