import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { type LocalS3, startLocalS3 } from '../../harness/localS3.ts';
import { openLocalInput, resolveTarget } from '../../lambda/cli/input.ts';
import { type CliIO, main } from '../../lambda/cli/main.ts';
import type { Parsed } from '../../lambda/cli/parse.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { encryptedWorkbook, type XSheet, xlsxOf } from '../source/xlsxFile.ts';

/**
 * .xlsx workbooks through the CLI's main() against the sandbox portal: the first sheet is imported as written
 * (no code page to guess), each row's outcome carries its sheet row number, later sheets are never read, and a
 * workbook that cannot be read is refused as a CSV would be (exit 2, summary.json, nothing sent).
 */

let sb: Sandbox;
let open: Sandbox | undefined;
let dir: string;
let tempBefore: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-xlsx-'));
  tempBefore = await leftovers();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  // main() does not close its input yet (the CLI process removes the converted CSV when it exits): tidy up here.
  const mine = (await leftovers()).filter((n) => !tempBefore.includes(n));
  await Promise.all(mine.map((n) => rm(join(tmpdir(), n), { recursive: true, force: true })));
});
afterEach(async () => {
  await open?.close();
  open = undefined;
});

function io(cwd: string, env: Record<string, string>): CliIO & { text: () => string } {
  let out = '';
  const sink = {
    write: (s: string) => {
      out += s;
      return true;
    },
  };
  return { stdout: sink, stderr: sink, env, cwd, text: () => out };
}

interface Run {
  code: number;
  text: string;
  report: Record<string, string>[];
  rejected: string;
  summary: { source: string; rows: number; counts: Record<string, number>; refused?: { code: string; message: string } };
}

async function run(name: string, bytes: Buffer, args: string[] = []): Promise<Run> {
  await writeFile(join(dir, name), bytes);
  const out = join(dir, `${name}-out`);
  const cli = io(dir, { BITRIX24_WEBHOOK_URL: sb.webhookUrl, B24_LOCAL_MODE: '1' });
  const code = await main([name, '--out', out, ...args], cli);
  const report = parse(await readFile(join(out, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  return { code, text: cli.text(), report, rejected: await readFile(join(out, 'rejected.csv'), 'utf8'), summary };
}

async function portal(n: number): Promise<number[]> {
  await open?.close();
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  open = sb;
  return sb.seedLeads(Array.from({ length: n }, (_, i) => ({ TITLE: `Lead ${i + 1}` })));
}

const rows2to = (last: number) => Array.from({ length: last - 1 }, (_, i) => i + 2);

const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));

/** Temp folders the CLI left (the converted CSV holds the user's leads: none may stay). */
async function leftovers(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('b24-xlsx-'));
}

describe('an .xlsx workbook, first sheet', () => {
  it('reaches the portal as written: Cyrillic and accents, a phone stored as a number, a date, an amount; rows keep their numbers', async () => {
    const ids = await portal(4);
    const leads: XSheet = {
      name: 'Лиды',
      rows: {
        1: ['ID', 'NAME', 'LAST_NAME', 'PHONE', 'BIRTHDATE', 'OPPORTUNITY', 'CURRENCY_ID'],
        2: [
          ids[0],
          'Иван',
          'Петров',
          { n: '79123456789', fmt: 'integer' },
          { date: day(1990, 3, 5) },
          { n: '12500', fmt: 'currency' },
          'RUB',
        ],
        // row 3: empty (absent from the sheet's XML)
        4: [
          ids[1],
          'José',
          'Müller',
          { n: '4930123456' },
          { date: day(1985, 12, 31), fmt: 'builtinDate' },
          { n: '1234.5600000000002' },
          'EUR',
        ],
        5: [ids[2], 'François', 'Lefèvre', { inline: '+7 912 345-67-89' }, '31.02.1990', null, null],
      },
    };
    const other: XSheet = { name: 'Старые', rows: { 1: ['ID', 'TITLE'], 2: [ids[3], 'from the second sheet'] } };
    const r = await run('leads.xlsx', xlsxOf([leads, other]));

    expect(r.code).toBe(1); // one invalid row
    expect(r.report.map((o) => [o.line, o.id, o.status, o.error_code])).toEqual([
      ['2', String(ids[0]), 'updated', ''],
      ['4', String(ids[1]), 'updated', ''],
      ['5', String(ids[2]), 'invalid', 'INVALID_VALUE'],
    ]);
    expect(r.report[2].error_message).toMatch(/^line 5, BIRTHDATE: "31\.02\.1990" is not a real date$/);
    expect(r.summary).toMatchObject({ source: 'leads.xlsx', rows: 3 });

    const writes = sb.ledger();
    expect(writes.map((w) => w.id)).toEqual([ids[0], ids[1]]);
    const first = sb.lead(ids[0])!;
    expect([first.NAME, first.LAST_NAME, first.OPPORTUNITY, first.CURRENCY_ID]).toEqual(['Иван', 'Петров', '12500.00', 'RUB']);
    expect(first.PHONE?.map((p) => p.VALUE)).toEqual(['79123456789']);
    expect(String(first.BIRTHDATE)).toMatch(/^1990-03-05/);
    const second = sb.lead(ids[1])!;
    expect([second.NAME, second.LAST_NAME, second.OPPORTUNITY]).toEqual(['José', 'Müller', '1234.56']);
    expect(String(second.BIRTHDATE)).toMatch(/^1985-12-31/);
    // The second sheet is never read.
    expect(sb.lead(ids[3])?.TITLE).toBe('Lead 4');
    expect(writes.filter((w) => w.id === ids[3])).toEqual([]);

    // rejected.csv is the sheet's CSV form: the header and the invalid row, ready to fix and upload.
    expect(r.rejected).toBe(
      `ID,NAME,LAST_NAME,PHONE,BIRTHDATE,OPPORTUNITY,CURRENCY_ID\r\n${ids[2]},François,Lefèvre,+7 912 345-67-89,31.02.1990,,\r\n`,
    );
  });

  it("the converted CSV is the run's source under the workbook's name, and close() removes it", async () => {
    const file = join(dir, 'staged.xlsx');
    await writeFile(file, xlsxOf([{ name: 'S', rows: { 1: ['ID', 'TITLE'], 3: [1, 'Zoë'] } }]));
    const before = await leftovers();
    const parsed: Parsed = { file: 'staged.xlsx', options: parseRunOptions({}) };
    const target = resolveTarget(parsed, dir);
    const input = await openLocalInput(target, parseRunOptions({ encoding: 'windows-1251', delimiter: ';' }));
    expect(input.state.source.key).toBe('staged.xlsx');
    expect(input.state.options).toMatchObject({ encoding: 'utf-8', delimiter: ',' });
    const csv = await new Response(Readable.toWeb(await input.source.read('staged.xlsx')) as ReadableStream).text();
    expect(csv).toBe('ID,TITLE\r\n\r\n1,Zoë\r\n');
    expect((await leftovers()).length).toBe(before.length + 1);
    await input.close?.();
    expect(await leftovers()).toEqual(before);
  });

  it('--encoding and --delimiter meant for a CSV do not change how a workbook is read', async () => {
    const [id] = await portal(1);
    const book = xlsxOf([{ name: 'S', rows: { 1: ['ID', 'TITLE'], 2: [id, 'Café; Zoë, GmbH'] } }]);
    const r = await run('flags.xlsx', book, ['--encoding', 'windows-1252', '--delimiter', ';']);
    expect(r.code).toBe(0);
    expect(sb.lead(id)?.TITLE).toBe('Café; Zoë, GmbH');
  });
});

describe('workbooks that cannot be read are refused before anything is sent (exit 2)', () => {
  async function expectRefused(name: string, book: Buffer, code: string, reason: RegExp, args: string[] = []) {
    await portal(1);
    const r = await run(name, book, args);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(new RegExp(`refused: ${code}: `));
    expect(r.summary.refused?.code).toBe(code);
    expect(r.summary.refused?.message).toMatch(reason);
    expect(r.report).toEqual([]);
    expect(sb.ledger()).toEqual([]);
    return r;
  }

  it('a password-protected workbook', async () => {
    await expectRefused('secret.xlsx', encryptedWorkbook(), 'XLSX_ENCRYPTED', /protected with a password.*Encrypt with Password/);
  });

  it('an empty first sheet, even with data on the second', async () => {
    const book = xlsxOf([
      { name: 'Пусто', rows: {} },
      { name: 'Data', rows: { 1: ['ID', 'TITLE'], 2: [1, 'x'] } },
    ]);
    await expectRefused('empty.xlsx', book, 'EMPTY_FILE', /first sheet is empty/);
  });

  it('more rows than --max-rows, and more CSV than --max-bytes', async () => {
    const rows: XSheet['rows'] = { 1: ['ID', 'TITLE'] };
    for (let i = 2; i <= 12; i++) rows[i] = [i, `Лид ${i}`];
    const book = xlsxOf([{ name: 'S', rows }]);
    await expectRefused('rows.xlsx', book, 'TOO_MANY_ROWS', /has 11 rows, over the 10-row limit \(--max-rows\)/, ['--max-rows', '10']);
    // One long note on every row: the workbook keeps it once (a shared string, compressed), the CSV on each line.
    const note = 'Перезвонить после обеда. '.repeat(40);
    const long = xlsxOf([{ name: 'S', rows: Object.fromEntries([[1, ['ID', 'COMMENTS']], ...rows2to(12).map((i) => [i, [i, note]])]) }]);
    const r = await expectRefused('bytes.xlsx', long, 'FILE_TOO_LARGE', /as CSV, is over the \d+-byte limit \(--max-bytes\)/, [
      '--max-bytes',
      String(long.length * 2),
    ]);
    expect(long.length * 2).toBeLessThan(11 * Buffer.byteLength(note));
    expect(r.summary.refused?.message).toContain(`over the ${long.length * 2}-byte limit`);
  });

  it('a damaged workbook', async () => {
    const book = xlsxOf([{ name: 'S', rows: { 1: ['ID'] } }]);
    await expectRefused('cut.xlsx', book.subarray(0, book.length - 40), 'XLSX_UNREADABLE', /cannot be read.*save it again/);
  });

  it('an .xls (Excel 97-2003) keeps the save-as refusal', async () => {
    const xls = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(2048, 0)]);
    await expectRefused('old.xls', xls, 'NOT_TEXT', /Excel 97-2003 workbook \(\.xls\): open it in Excel, choose File → Save As/);
  });
});

describe('an .xlsx object on S3 (the CLI on s3://bucket/key)', () => {
  let s3: LocalS3;
  let store: S3Store;
  const saved = { ...process.env };
  beforeAll(async () => {
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['leads'] });
    store = new S3Store(s3.client, 'leads');
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_PROFILE;
  });
  afterAll(async () => {
    process.env = saved;
    await s3.close();
  });

  it('is read as its first sheet; the report goes back to the bucket, naming the object and the sheet rows', async () => {
    const book = xlsxOf([{ name: 'S', rows: { 1: ['ID', 'NAME'], 2: [1, 'Zoë'], 4: ['x', 'Пётр'] } }]);
    await store.write('incoming/may.xlsx', book);
    const cli = io(dir, {});
    const code = await main(['s3://leads/incoming/may.xlsx', '--dry-run'], cli);
    expect(code).toBe(1); // one invalid ID
    const keys = await store.list('reports/may.xlsx/');
    const text = async (name: string) => {
      let t = '';
      for await (const c of await store.read(keys.find((k) => k.endsWith(`/${name}`))!)) t += String(c);
      return t;
    };
    expect(JSON.parse(await text('summary.json'))).toMatchObject({
      source: 's3://leads/incoming/may.xlsx',
      rows: 2,
      counts: { valid: 1, invalid: 1 },
    });
    const report = parse(await text('report.csv'), { columns: true }) as Record<string, string>[];
    expect(report.map((o) => [o.line, o.status])).toEqual([
      ['2', 'valid'],
      ['4', 'invalid'],
    ]);
    expect(await text('rejected.csv')).toBe('ID,NAME\r\nx,Пётр\r\n');
    expect(await store.list('parts/')).toEqual([]);
  });
});
