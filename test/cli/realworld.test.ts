import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { main, type CliIO } from '../../lambda/cli/main.ts';

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

describe('a mapping file for a Russian export', () => {
  const csv = iconv.encode('Ид;Название;Телефон\r\n10;Рога и копыта;+7 (495) 123-45-67\r\n', 'win1251');
  const mapping = { Ид: 'ID', Название: 'TITLE', Телефон: 'PHONE_WORK' };

  // Notepad on a Russian Windows saves "ANSI", i.e. windows-1251: read as UTF-8, no key matched any header.
  it.each([
    ['windows-1251 (ANSI)', iconv.encode(JSON.stringify(mapping), 'win1251')],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(mapping))])],
    ['UTF-8', Buffer.from(JSON.stringify(mapping))],
  ])('saved as %s maps the Cyrillic headers', async (name, bytes) => {
    const tag = name.replace(/\W+/g, '-');
    await writeFile(join(dir, `ru-${tag}.csv`), csv);
    await writeFile(join(dir, `map-${tag}.json`), bytes);
    const io = capture();
    const code = await main([`ru-${tag}.csv`, '--dry-run', '--map', `map-${tag}.json`], io);
    expect(io.errText()).toBe('');
    expect(code).toBe(0);
    const report = await readFile(join(dir, `ru-${tag}-report`, 'report.csv'), 'utf8');
    expect(report).toBe('line,id,status,error_code,error_message,attempts\r\n2,10,valid,,,0\r\n');
  });
});

describe('option spellings', () => {
  const tsv = 'ID\tTITLE\tCOMMENTS\r\n1\tHello, world; x\ta,b\r\n';

  it.each([
    [['--delimiter', 'TAB'], 'tab'],
    [['--delimiter', 'tab', '--encoding', 'UTF-8'], 'utf'],
    [['--delimiter', '\t', '--encoding', 'utf8', '--sonet', 'y'], 'raw'],
  ])('%j is read as the documented value', async (args, tag) => {
    await writeFile(join(dir, `spell-${tag}.csv`), tsv);
    const io = capture();
    const code = await main([`spell-${tag}.csv`, '--dry-run', ...args], io);
    expect(io.errText()).toBe('');
    expect(code).toBe(0);
  });

  it('cp1251 means windows-1251: the Cyrillic header is read right, not as UTF-8', async () => {
    await writeFile(join(dir, 'spell-cp.csv'), iconv.encode('ID;TITLE\r\n1;Ёлка\r\n', 'win1251'));
    const io = capture();
    expect(await main(['spell-cp.csv', '--dry-run', '--encoding', 'cp1251', '--delimiter', 'semicolon'], io)).toBe(0);
  });

  it('a wrong delimiter is refused with the choices readable (no raw tab in the message)', async () => {
    const io = capture();
    expect(await main(['spell-utf.csv', '--dry-run', '--delimiter', 'x'], io)).toBe(2);
    expect(io.errText()).toMatch(/--delimiter: .*"auto".*tab/);
    expect(io.errText()).not.toContain('\t');
  });
});

describe("Excel's sep= first line", () => {
  it('sets the delimiter and is not a record: the header is line 2, rows keep their real line numbers', async () => {
    await writeFile(join(dir, 'sep.csv'), 'sep=;\r\nID;TITLE;OPPORTUNITY\r\n1;Acme, Inc.;1 234,50\r\nx;Bad;1\r\n');
    const code = await main(['sep.csv', '--dry-run', '--out', 'sep-out'], capture());
    expect(code).toBe(1);
    const report = (await readFile(join(dir, 'sep-out', 'report.csv'), 'utf8')).trimEnd().split('\r\n');
    expect(report.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['3,1,valid', '4,x,invalid']);
    expect(await readFile(join(dir, 'sep-out', 'rejected.csv'), 'utf8')).toBe('ID;TITLE;OPPORTUNITY\r\nx;Bad;1\r\n');
  });
});
