import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import { type CliIO, main } from '../../lambda/cli/main.ts';

/**
 * Files as real exports are (Western and Mac Excel code pages, Salesforce report footers, Excel's quoted sep=
 * line, the portal's "Export to Excel"), through the CLI's main() against the sandbox portal: what reaches the
 * portal, each row's outcome and the message a person reads.
 */

let sb: Sandbox;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-real-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await sb?.close();
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
  rejected: Buffer;
  summary: { counts: Record<string, number>; errorCodes: Record<string, number>; refused?: { code: string; message: string } };
}

/** Writes the file, runs the real import against the sandbox, and reads the report back. */
async function run(name: string, bytes: Buffer | string, args: string[] = []): Promise<Run> {
  await writeFile(join(dir, name), bytes);
  const out = join(dir, `${name}-out`);
  const cli = io(dir, { BITRIX24_WEBHOOK_URL: sb.webhookUrl, B24_LOCAL_MODE: '1' });
  const code = await main([name, '--out', out, ...args], cli);
  const report = parse(await readFile(join(out, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  return { code, text: cli.text(), report, rejected: await readFile(join(out, 'rejected.csv')), summary };
}

async function portal(n: number): Promise<number[]> {
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  return sb.seedLeads(Array.from({ length: n }, (_, i) => ({ TITLE: `Lead ${i + 1}` })));
}

const names = (id: number) => {
  const l = sb.lead(id)!;
  return [l.NAME, l.LAST_NAME, l.COMPANY_TITLE];
};

describe('non-UTF-8 files in each code page reach the portal as written', () => {
  const rows = [
    ['José', 'Müller', 'Café Zoë GmbH'],
    ['François', 'Lefèvre', 'Société Générale'],
    ['Iñigo', 'Núñez', 'Añejo S.L.'],
  ];
  it.each([
    ['windows-1252', 'win1252', rows],
    ['macintosh', 'macintosh', rows],
    [
      'windows-1251',
      'win1251',
      [
        ['Иван', 'Петров', 'ООО «Ромашка»'],
        ['Ёлка', 'Сидорова', 'ИП Жуков'],
        ['Пётр', 'Щукин', 'АО «Вектор»'],
      ],
    ],
  ])('%s, detected', async (encoding, iconvName, people) => {
    const ids = await portal(3);
    const text = `ID;NAME;LAST_NAME;COMPANY_TITLE\r\n${people.map((p, i) => `${ids[i]};${p.join(';')}`).join('\r\n')}\r\n`;
    const r = await run(`${encoding}.csv`, iconv.encode(text, iconvName));
    expect(r.text).not.toMatch(/refused/);
    expect(r.code).toBe(0);
    expect(r.report.map((o) => o.status)).toEqual(['updated', 'updated', 'updated']);
    expect(ids.map(names)).toEqual(people);
  });

  it('an ambiguous file is refused before anything is sent, naming the candidates and the way out', async () => {
    const [id] = await portal(1);
    const r = await run('ambiguous.csv', iconv.encode(`ID;TITLE\r\n${id};Tour à Paris\r\n`, 'win1252'));
    expect(r.code).toBe(2);
    expect(r.summary.refused?.code).toBe('UNSURE_ENCODING');
    expect(r.text).toMatch(/windows-1251, windows-1252.*--encoding.*CSV UTF-8/);
    expect(sb.ledger()).toEqual([]);
    // Named, the same file goes through as written.
    const named = await run('ambiguous.csv', iconv.encode(`ID;TITLE\r\n${id};Tour à Paris\r\n`, 'win1252'), ['--encoding', 'windows-1252']);
    expect(named.code).toBe(0);
    expect(sb.lead(id)?.TITLE).toBe('Tour à Paris');
  });

  it('a row past the detected head that reads badly in its code page is invalid, not sent, kept byte for byte', async () => {
    const ids = await portal(2);
    // 64 KiB of Western rows decide windows-1252; a Russian (windows-1251) row comes after them.
    const note = 'Rückruf erbeten, Preis 100€ '.repeat(900); // 25 KB: three rows pass the head
    const filler = [1, 2, 3].map((i) => `${ids[0]};José;Müller;Café Zoë GmbH ${i};${note}`).join('\r\n');
    const western = iconv.encode(`ID;NAME;LAST_NAME;COMPANY_TITLE;COMMENTS\r\n${filler}\r\n`, 'win1252');
    expect(western.length).toBeGreaterThan(64 * 1024);
    const russian = iconv.encode(`${ids[1]};Иван;Петров;ООО Ромашка;Позвонить\r\n`, 'win1251');
    const r = await run('late.csv', Buffer.concat([western, russian]));
    expect(r.code).toBe(1);
    const last = r.report.at(-1)!;
    expect([last.id, last.status, last.error_code]).toEqual([String(ids[1]), 'invalid', 'ENCODING_DOUBT']);
    expect(last.error_message).toBe(
      `line 5: the row's text reads badly in the file's code page ("Èâàí") and better as windows-1251: if the file is windows-1251, run it with --encoding windows-1251; otherwise save it as "CSV UTF-8" and upload again`,
    );
    expect(sb.ledger().filter((w) => w.id === ids[1])).toEqual([]);
    expect(names(ids[0])).toEqual(['José', 'Müller', 'Café Zoë GmbH 3']);
    // rejected.csv is the user's file minus the good rows: the header and that row, in the file's bytes.
    expect(r.rejected.equals(Buffer.concat([iconv.encode('ID;NAME;LAST_NAME;COMPANY_TITLE;COMMENTS\r\n', 'win1252'), russian]))).toBe(true);
  });

  it('a windows-1251 file whose first 64 KiB are ASCII: the later Cyrillic row is invalid with the --encoding hint', async () => {
    const ids = await portal(2);
    const filler = Array.from({ length: 2200 }, () => `${ids[0]};Ann;Lee;Acme Corporation Ltd`).join('\r\n');
    const bytes = iconv.encode(`ID;NAME;LAST_NAME;COMPANY_TITLE\r\n${filler}\r\n${ids[1]};Иван;Петров;Ромашка\r\n`, 'win1251');
    const r = await run('ascii-head.csv', bytes);
    expect(r.code).toBe(1);
    const last = r.report.at(-1)!;
    expect([last.status, last.error_code]).toEqual(['invalid', 'INVALID_VALUE']);
    expect(last.error_message).toMatch(/not text in the file's encoding .*--encoding windows-1251/);
    expect(sb.ledger().filter((w) => w.id === ids[1])).toEqual([]);
  });
});

describe('a Salesforce report export ends with its footer', () => {
  const footer =
    '\r\n\r\n"Grand Totals (2 records)"\r\n""\r\n\r\n"Confidential Information - Do Not Distribute"\r\n' +
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\r\n';

  it('its lines are skipped FOOTER, the run does not fail for them, nothing of them is sent or rejected', async () => {
    const ids = await portal(2);
    const text = `"ID","NAME","COMPANY_TITLE"\r\n"${ids[0]}","Ann","Acme"\r\n"${ids[1]}","Bob","Initech"\r\n${footer}`;
    const r = await run('salesforce.csv', text);
    expect(r.report.map((o) => [o.line, o.status, o.error_code])).toEqual([
      ['2', 'updated', ''],
      ['3', 'updated', ''],
      ['6', 'skipped', 'FOOTER'],
      ['7', 'skipped', 'FOOTER'],
      ['9', 'skipped', 'FOOTER'],
      ['10', 'skipped', 'FOOTER'],
    ]);
    expect(r.report[2].error_message).toBe(
      'line 6: "Grand Totals (2 records)" is the export\'s footer after the data, not a lead; skipped',
    );
    expect(r.report[3].error_message).toBe("line 7: an empty line inside the export's footer after the data; skipped");
    expect(r.code).toBe(0);
    expect(sb.ledger().map((w) => w.id)).toEqual(ids);
    expect(r.rejected.toString()).toBe('"ID","NAME","COMPANY_TITLE"\r\n');
  });

  it('a footer line with data after it is an ordinary invalid row (exit 1)', async () => {
    const ids = await portal(2);
    const text = `ID,NAME\r\n${ids[0]},Ann\r\n"Grand Totals (1 records)"\r\n${ids[1]},Bob\r\n`;
    const r = await run('footer-inside.csv', text);
    expect(r.report.map((o) => [o.line, o.status, o.error_code])).toEqual([
      ['2', 'updated', ''],
      ['3', 'invalid', 'ROW_CELL_COUNT'],
      ['4', 'updated', ''],
    ]);
    expect(r.code).toBe(1);
  });
});

describe("Excel's own file shapes", () => {
  it('a quoted "sep=;" first line names the delimiter and is not a row', async () => {
    const [id] = await portal(1);
    const r = await run('quoted-sep.csv', `"sep=;"\r\nID;TITLE\r\n${id};Acme, Inc.\r\n`);
    expect(r.code).toBe(0);
    expect(r.report.map((o) => [o.line, o.status])).toEqual([['3', 'updated']]);
    expect(sb.lead(id)?.TITLE).toBe('Acme, Inc.');
  });

  it('the portal\'s "Export to Excel" (an HTML table named .xls) is refused with the steps, nothing sent', async () => {
    await portal(1);
    const html =
      '<meta http-equiv="Content-type" content="text/html;charset=utf-8" />\n<table border="1"><tr><th>ID</th><th>Lead Name</th></tr><tr><td>1</td><td>Acme</td></tr></table>';
    const r = await run('leads.xls', html);
    expect(r.code).toBe(2);
    expect(r.summary.refused?.code).toBe('EXCEL_HTML');
    expect(r.text).toMatch(/Save As → "CSV UTF-8/);
    expect(sb.ledger()).toEqual([]);
  });
});
