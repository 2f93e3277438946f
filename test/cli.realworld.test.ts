import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../lambda/cli.ts';

/** Real-world files and command lines through the CLI's main(), in process (dry run, offline). */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-rw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): CliIO & { out: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    cwd: dir,
    out: () => out,
    errText: () => err,
  };
}

describe('the report never overwrites the input', () => {
  it('re-running a fixed rejected.csv with --out set to its own folder is refused (exit 2), the file kept', async () => {
    await mkdir(join(dir, 'leads-report'), { recursive: true });
    const fixed = 'ID,TITLE\r\n1,fixed\r\n2,also fixed\r\nx,still bad\r\n';
    await writeFile(join(dir, 'leads-report', 'rejected.csv'), fixed);
    const io = capture();
    const code = await main(['leads-report/rejected.csv', '--dry-run', '--out', 'leads-report'], io);
    expect(code).toBe(2);
    expect(io.errText()).toMatch(/would overwrite the input file with its rejected\.csv/);
    expect(await readFile(join(dir, 'leads-report', 'rejected.csv'), 'utf8')).toBe(fixed);
  });

  it('the default folder beside a fixed rejected.csv is rejected-report/, and runs', async () => {
    const io = capture();
    const code = await main(['leads-report/rejected.csv', '--dry-run'], io);
    expect(code).toBe(1); // the one bad ID
    expect(await readFile(join(dir, 'leads-report', 'rejected-report', 'rejected.csv'), 'utf8')).toBe('ID,TITLE\r\nx,still bad\r\n');
  });
});
