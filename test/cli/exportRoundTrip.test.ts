import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIO, main } from '../../lambda/cli/main.ts';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { demoRow, sampleFile } from '../support/leadSample.ts';

/** Bitrix24's own lead-import sample file, filled for an update, through the CLI (#18 items 5, 6, 9, 18). */

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

function io(env: Record<string, string>, cwd: string): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: {
      write: (s: string) => {
        out += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
    env,
    cwd,
    out: () => out,
    err: () => err,
  };
}

async function report(folder: string): Promise<Record<string, string>[]> {
  return parse(await readFile(join(folder, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
}

/** A multifield as the ledger holds it (the PHP-parsed form keys entries 0, 1…). */
const list = (v: unknown) => Object.values(v as object);

const CODES = { STATUS_ID: 'IN_PROCESS', SOURCE_ID: 'PARTNER' };

describe("Bitrix24's lead-import sample goes in with no mapping", () => {
  it('a real run writes each column to its field and VALUE_TYPE (FACEBOOK, INSTAGRAM…), the rows updated', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [id] = sb.seedLeads([{ TITLE: 'Old' }]);
    dir = await mkdtemp(join(tmpdir(), 'cli-sample-'));
    const row = { ...demoRow(id, CODES), IM_INSTAGRAM: 'evgeny.n', WEB_FACEBOOK: 'facebook.com/evgeny', PHONE_MOBILE: '+79001234567' };
    await writeFile(join(dir, 'lead.csv'), sampleFile('ru', [row]));
    const cli = io({ BITRIX24_WEBHOOK_URL: sb.webhookUrl }, dir);
    const code = await main(['lead.csv', '--out', 'out'], cli);

    expect(cli.err()).toBe('');
    expect(code).toBe(0);
    expect((await report(join(dir, 'out'))).map((r) => [r.id, r.status])).toEqual([[String(id), 'updated']]);
    const [write] = sb.ledger();
    expect(write.fields).toMatchObject({
      TITLE: 'Веб-сервис',
      NAME: 'Евгений',
      LAST_NAME: 'Никифоров',
      POST: 'Фрилансер',
      STATUS_ID: 'IN_PROCESS',
      SOURCE_ID: 'PARTNER',
      CURRENCY_ID: 'RUB',
    });
    expect(list(write.fields.EMAIL)).toEqual([{ VALUE: 'evgeny@yahoo.com', VALUE_TYPE: 'HOME' }]);
    expect(list(write.fields.IM)).toEqual([{ VALUE: 'evgeny.n', VALUE_TYPE: 'INSTAGRAM' }]);
    expect(list(write.fields.WEB)).toEqual([{ VALUE: 'facebook.com/evgeny', VALUE_TYPE: 'FACEBOOK' }]);
    expect(list(write.fields.PHONE)).toEqual([expect.objectContaining({ VALUE_TYPE: 'MOBILE' })]);
    // OPENED "Да" is Y, as the lead already is: the diff sends only what changes. The composed, product and
    // binding columns are never sent.
    expect(sb.lead(id)?.OPENED).toBe('Y');
    for (const k of ['FULL_NAME', 'FULL_ADDRESS', 'PRODUCT_ID', 'LINK']) expect(write.fields).not.toHaveProperty(k);
  });

  it('offline (no webhook) a dry run reads it too, and says what only the portal can check', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-sample-'));
    await writeFile(join(dir, 'lead.csv'), sampleFile('ru', [demoRow(7, CODES)]));
    const cli = io({}, dir);
    const code = await main(['lead.csv', '--dry-run', '--out', 'out'], cli);

    expect(code).toBe(0);
    const [r] = await report(join(dir, 'out'));
    expect([r.id, r.status]).toEqual(['7', 'valid']);
    expect(r.error_message).toBe('line 2: not checked offline: STATUS_ID code, SOURCE_ID code (set the webhook for a full check)');
  });

  it('a header with many problems is refused with each on its own line, grouped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-sample-'));
    const header = ['ID', 'Название лида', 'Created', 'Теги сделки', 'Contact owner', 'Квартира, офис, этаж', 'Lead Name'];
    await writeFile(join(dir, 'bad.csv'), `${header.join(';')}\r\n1;a;b;c;d;e;f\r\n`);
    const cli = io({}, dir);
    expect(await main(['bad.csv', '--dry-run', '--out', 'out'], cli)).toBe(2);
    const text = cli.err();
    expect(text).toContain(
      [
        'header refused: 5 problems',
        'unknown columns (not crm.lead.update fields: fix the name, map it in the mapping file, or remove the column; --ignore-unknown skips unknown and read-only columns):',
        '  "Теги сделки" (column 4)',
        '  "Contact owner" (column 5)',
        '  "Квартира, офис, этаж" (column 6)',
        'read-only columns (the portal sets them: remove the column, or --ignore-unknown skips it):',
        '  "Created" (column 3, DATE_CREATE)',
        'duplicate columns (one column per field; remove or rename the later one):',
        '  "Lead Name" (column 7): TITLE is already set by "Название лида", column 2',
      ].join('\n'),
    );
    expect(text).not.toContain('delimiter');
  });
});
