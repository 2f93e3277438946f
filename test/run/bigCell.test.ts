/**
 * #16 item 10: a 10 MB cell of escaped quotes (`""` × 5,000,000) in a 128 MB heap (the bin's own cap, see
 * package.json "cli"). The row is refused anyway (CELL_TOO_LARGE); reading it, reporting it and writing it to
 * rejected.csv / rejected.safe.csv must not need many times the cell (it used to need ~350 MB: exit 134).
 * The real CLI as a child process, offline dry run.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/badinput.ts';
import { parseReport } from '../support/faults.ts';

const PAIRS = 5_000_000;

describe('memory: a huge cell of escaped quotes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'big-quotes-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('10 MB of `""` in one cell, 128 MB heap: exit 1, that row CELL_TOO_LARGE, the rows around it valid', async () => {
    const big = `2,"${'""'.repeat(PAIRS)}",c`;
    await writeFile(join(dir, 'quotes.csv'), `ID,TITLE,COMMENTS\n1,a,b\n${big}\n3,x,y\n`);
    const started = Date.now();
    const r = await runCli(dir, ['quotes.csv', '--dry-run', '--out', 'out'], { B24_LOCAL_MODE: '1' }, ['--max-old-space-size=128']);
    console.info(`10 MB cell of quotes in a 128 MB heap: exit ${r.code} in ${Date.now() - started} ms`);
    expect(r.stderr).not.toMatch(/heap out of memory/);
    expect(r.code).toBe(1);
    const report = parseReport(await readFile(join(dir, 'out', 'report.csv'), 'utf8'));
    expect(report.map((l) => [l.line, l.status, l.errorCode])).toEqual([
      [2, 'valid', ''],
      [3, 'invalid', 'CELL_TOO_LARGE'],
      [4, 'valid', ''],
    ]);
    expect(report[1].message).toMatch(/TITLE: the cell is 5000000 bytes/);
    // rejected.csv: the header and the refused row, byte for byte; the safe copy holds it quoted the same way.
    const rejected = await readFile(join(dir, 'out', 'rejected.csv'), 'utf8');
    expect(rejected === `ID,TITLE,COMMENTS\r\n${big}\r\n` || rejected === `ID,TITLE,COMMENTS\n${big}\n`).toBe(true);
    const safe = await readFile(join(dir, 'out', 'rejected.safe.csv'), 'utf8');
    expect(safe.length).toBeGreaterThan(2 * PAIRS);
  }, 150_000);
});
