import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { main, type CliIO } from '../../../lambda/cli/main.ts';

/** Issue #18 values end to end: the CLI against the sandbox, asserting what the portal received and the report. */

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

function io(cwd: string): CliIO {
  const sink = { write: (_s: string) => true };
  return { stdout: sink, stderr: sink, env: { BITRIX24_WEBHOOK_URL: sb!.webhookUrl }, cwd };
}

type Line = Record<string, string>;

/** A multifield as the portal received it: PHP decodes `PHONE[0][VALUE]` into a map keyed "0", "1"… */
const entries = (v: unknown) => Object.values(v as Record<string, unknown>);

/** Runs the CLI on `csv` (`;`-separated, as Russian Excel saves it) and returns the report rows by line. */
async function run(csv: string, args: string[] = []): Promise<Line[]> {
  dir ??= await mkdtemp(join(tmpdir(), 'real-values-'));
  await writeFile(join(dir, 'leads.csv'), csv);
  await main(['leads.csv', '--out', 'out', ...args], io(dir));
  return parse(await readFile(join(dir, 'out', 'report.csv'), 'utf8'), { columns: true }) as Line[];
}

async function portal() {
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  return sb;
}

describe('#18.1 an ambiguous amount never reaches the portal as a guess', () => {
  it('12,500 and 1.234 are refused with the fix in the message when nothing in the file decides the mark', async () => {
    const [a, b, c] = (await portal()).seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }, { TITLE: 'c' }]);
    const report = await run(`ID;OPPORTUNITY\r\n${a};12,500\r\n${b};1.234\r\n${c};12500\r\n`);
    expect(report.map((r) => [r.id, r.status, r.error_code])).toEqual([
      [String(a), 'invalid', 'INVALID_VALUE'],
      [String(b), 'invalid', 'INVALID_VALUE'],
      [String(c), 'updated', ''],
    ]);
    expect(report[0].error_message).toBe(
      'line 2, OPPORTUNITY: "12,500" is ambiguous (12500 or 12.5?): write 12500 or 12,500.00 for thousands, 12,5 for decimals, ' +
        'or run with --decimal-mark , if "," is this file\'s decimal mark (--decimal-mark . if it separates thousands)',
    );
    expect(sb!.ledger().map((w) => [w.id, w.fields.OPPORTUNITY])).toEqual([[c, '12500']]);
  });

  it("the file's other amounts decide the mark: 12,50 and 1 234,50 make 12,500 twelve and a half, 1.234 a thousand", async () => {
    const [a, b, c, d] = (await portal()).seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }, { TITLE: 'c' }, { TITLE: 'd' }]);
    const report = await run(`ID;OPPORTUNITY\r\n${a};12,500\r\n${b};1.234\r\n${c};12,50\r\n${d};1 234,50\r\n`);
    expect(report.map((r) => [r.id, r.status])).toEqual([
      [String(a), 'updated'],
      [String(b), 'updated'],
      [String(c), 'updated'],
      [String(d), 'updated'],
    ]);
    expect(sb!.ledger().map((w) => [w.id, Number(w.fields.OPPORTUNITY)])).toEqual([
      [a, 12.5],
      [b, 1234],
      [c, 12.5],
      [d, 1234.5],
    ]);
  });

  it('--decimal-mark . reads 12,500 as twelve thousand five hundred', async () => {
    const [a] = (await portal()).seedLeads([{ TITLE: 'a' }]);
    const report = await run(`ID;OPPORTUNITY\r\n${a};"12,500"\r\n`, ['--decimal-mark', '.']);
    expect(report.map((r) => r.status)).toEqual(['updated']);
    expect(sb!.lead(a)?.OPPORTUNITY).toBe('12500.00');
  });
});

describe('#18.3 more than two decimals: sent as the portal stores it, so a re-run writes nothing', () => {
  it('10.0051 is written as 10.01 with a warning; the second run is unchanged', async () => {
    const [a] = (await portal()).seedLeads([{ TITLE: 'a', OPPORTUNITY: '3' }]);
    const csv = `ID;OPPORTUNITY\r\n${a};10.0051\r\n`;
    const first = await run(csv);
    expect(first.map((r) => [r.status, r.error_message])).toEqual([
      ['updated', 'line 2, OPPORTUNITY: "10.0051" is sent as 10.01: the portal keeps 2 decimals'],
    ]);
    expect(sb!.ledger().map((w) => w.fields)).toEqual([{ OPPORTUNITY: '10.01' }]);
    expect(sb!.lead(a)?.OPPORTUNITY).toBe('10.01');
    const second = await run(csv);
    expect(second.map((r) => r.status)).toEqual(['unchanged']);
    expect(sb!.ledger()).toHaveLength(1);
  });
});

describe("#18.11 + #18.14 the export's joined phones and e-mails, and the same phone written two ways", () => {
  it('splits "a, b", sends only the number the lead lacks (as written), and a re-run writes nothing', async () => {
    const [a] = (await portal()).seedLeads([
      { TITLE: 'a', PHONE: [{ VALUE: '+7 912 345-67-89', VALUE_TYPE: 'WORK' }], EMAIL: [{ VALUE: 'ann@x.ru', VALUE_TYPE: 'WORK' }] },
    ]);
    const csv = `ID;PHONE_WORK;EMAIL_WORK\r\n${a};8 (912) 345-67-89, +7 (495) 123-45-67 доб. 12;ann@x.ru, ann@y.ru\r\n`;
    const first = await run(csv);
    expect(first.map((r) => r.status)).toEqual(['updated']);
    const [write] = sb!.ledger();
    expect(Object.keys(write.fields)).toEqual(['PHONE', 'EMAIL']);
    expect(entries(write.fields.PHONE)).toEqual([{ VALUE: '+7 (495) 123-45-67 доб. 12', VALUE_TYPE: 'WORK' }]);
    expect(entries(write.fields.EMAIL)).toEqual([{ VALUE: 'ann@y.ru', VALUE_TYPE: 'WORK' }]);
    expect((await run(csv)).map((r) => r.status)).toEqual(['unchanged']);
    expect(sb!.ledger()).toHaveLength(1);
  });

  it("--phone-country US reads (212) 555-0100 as the lead's +1 212 555 0100", async () => {
    const [a] = (await portal()).seedLeads([{ TITLE: 'a', PHONE: [{ VALUE: '+1 212 555 0100', VALUE_TYPE: 'WORK' }] }]);
    const csv = `ID;PHONE_WORK\r\n${a};(212) 555-0100 x3651\r\n`;
    // The extension makes it another phone: added once, as written.
    expect((await run(csv, ['--phone-country', 'US'])).map((r) => r.status)).toEqual(['updated']);
    expect(sb!.ledger().map((w) => entries(w.fields.PHONE))).toEqual([[{ VALUE: '(212) 555-0100 x3651', VALUE_TYPE: 'WORK' }]]);
    expect((await run(`ID;PHONE_WORK\r\n${a};(212) 555-0100\r\n`, ['--phone-country', 'US'])).map((r) => r.status)).toEqual(['unchanged']);
    expect(sb!.ledger()).toHaveLength(1);
  });
});

describe('#18.15 dates as exports write them', () => {
  it('midnight datetimes are dates; 3/5/1990 is refused unless --date-order says', async () => {
    const [a, b, c] = (await portal()).seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }, { TITLE: 'c' }]);
    const csv = `ID;BIRTHDATE\r\n${a};05.03.1990 0:00:00\r\n${b};3/5/1990\r\n${c};05.03.1990 14:30\r\n`;
    const report = await run(csv);
    expect(report.map((r) => [r.status, r.error_code])).toEqual([
      ['updated', ''],
      ['invalid', 'INVALID_VALUE'],
      ['invalid', 'INVALID_VALUE'],
    ]);
    expect(report[1].error_message).toContain('line 3, BIRTHDATE: "3/5/1990" is ambiguous (3 May or March 5?)');
    expect(report[2].error_message).toContain('has a time of day (14:30) but the field holds a date only');
    expect(sb!.ledger().map((w) => [w.id, w.fields.BIRTHDATE])).toEqual([[a, '1990-03-05']]);

    await run(`ID;BIRTHDATE\r\n${b};3/5/1990\r\n`, ['--date-order', 'DMY']);
    expect(sb!.ledger().map((w) => [w.id, w.fields.BIRTHDATE])).toEqual([
      [a, '1990-03-05'],
      [b, '1990-05-03'],
    ]);
  });
});

describe('#18.16 currency signs', () => {
  it('"1 234,50 ₽" with CURRENCY_ID RUB is written as 1234.5; with USD the row is refused naming both', async () => {
    const [a, b, c] = (await portal()).seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }, { TITLE: 'c', CURRENCY_ID: 'EUR' }]);
    const report = await run(`ID;OPPORTUNITY;CURRENCY_ID\r\n${a};1 234,50 ₽;RUB\r\n${b};1 234,50 ₽;USD\r\n${c};$1,234.50;\r\n`);
    expect(report.map((r) => [r.status, r.error_code])).toEqual([
      ['updated', ''],
      ['invalid', 'INVALID_VALUE'],
      ['updated', ''],
    ]);
    expect(report[1].error_message).toBe('line 3, OPPORTUNITY: "1 234,50 ₽" is in RUB (₽) but CURRENCY_ID is USD');
    expect(report[2].error_message).toContain('is sent without its currency sign "$"');
    expect(sb!.ledger().map((w) => [w.id, w.fields])).toEqual([
      [a, { OPPORTUNITY: '1234.5', CURRENCY_ID: 'RUB' }],
      [c, { OPPORTUNITY: '1234.5' }],
    ]);
    expect(sb!.lead(c)?.CURRENCY_ID).toBe('EUR');
  });
});
