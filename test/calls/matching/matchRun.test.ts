import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { main } from '../../../lambda/cli/main.ts';

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

async function run(csv: string, flags: string[]) {
  dir ??= await mkdtemp(join(tmpdir(), 'match-'));
  await writeFile(join(dir, 'in.csv'), csv);
  let out = '';
  const sink = {
    write: (s: string) => {
      out += s;
      return true;
    },
  };
  const code = await main([join(dir, 'in.csv'), '--out', join(dir, 'out'), ...flags], {
    stdout: sink,
    stderr: sink,
    env: { BITRIX24_WEBHOOK_URL: sb!.webhookUrl },
    cwd: dir,
  });
  const report = parse(await readFile(join(dir, 'out', 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  return { code, out, report };
}

describe('--match: rows without an ID find their lead by e-mail, phone or a custom field', () => {
  it('by e-mail (case-insensitive): one lead updates, none is NO_MATCH, two are AMBIGUOUS_MATCH; nothing else is written', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [ann, , , dora] = sb.seedLeads([
      { TITLE: 'Ann', EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'WORK' }] },
      { TITLE: 'Twin 1', EMAIL: [{ VALUE: 'twin@example.com', VALUE_TYPE: 'WORK' }] },
      { TITLE: 'Twin 2', EMAIL: [{ VALUE: 'twin@example.com', VALUE_TYPE: 'HOME' }] },
      { TITLE: 'Dora', EMAIL: [{ VALUE: 'dora@example.com', VALUE_TYPE: 'WORK' }] },
    ]);
    const csv =
      'EMAIL,TITLE\nANN@Example.com,Ann updated\nnobody@example.com,Ghost\ntwin@example.com,Which one\n,No key\ndora@example.com,Dora updated\n';
    const before = sb.stats().batchCommands['crm.lead.list'] ?? 0;
    const r = await run(csv, ['--match', 'EMAIL']);
    expect(r.code).toBe(1);
    // One findbycomm, then ONE read of the candidates that the diff plans from (no second read of those leads).
    expect(sb.stats().batchCommands['crm.duplicate.findbycomm']).toBe(1);
    expect((sb.stats().batchCommands['crm.lead.list'] ?? 0) - before).toBe(1);
    expect(r.report.map((x) => [x.line, x.id, x.status, x.error_code])).toEqual([
      ['2', String(ann), 'updated', ''],
      ['3', '', 'failed', 'NO_MATCH'],
      ['4', '', 'failed', 'AMBIGUOUS_MATCH'],
      ['5', '', 'invalid', 'INVALID_KEY'],
      ['6', String(dora), 'updated', ''],
    ]);
    expect(r.report[2].error_message).toMatch(/^2 leads have the e-mail "twin@example.com": \d+, \d+$/);
    expect(r.report[3].error_message).toMatch(/^line 5, EMAIL: the key is empty/);
    const writes = sb.ledger().filter((e) => e.method === 'crm.lead.update');
    expect(writes.map((w) => [w.id, w.fields.TITLE])).toEqual([
      [ann, 'Ann updated'],
      [dora, 'Dora updated'],
    ]);
    // The key e-mail is already on the lead: merge mode does not add it again.
    expect(sb.lead(ann)!.EMAIL).toHaveLength(1);

    // A re-run writes nothing.
    const again = await run(csv, ['--match', 'EMAIL']);
    expect(again.report.map((x) => x.status)).toEqual(['unchanged', 'failed', 'failed', 'invalid', 'unchanged']);
    expect(sb.ledger().filter((e) => e.method === 'crm.lead.update')).toHaveLength(2);
  });

  it("by phone written in other formats, the way the portal's duplicate search normalises it", async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [a] = sb.seedLeads([{ TITLE: 'A', PHONE: [{ VALUE: '+7 (912) 345-67-89', VALUE_TYPE: 'WORK' }] }]);
    const r = await run('PHONE_MOBILE;TITLE\n8 912 345 67 89;A by phone\n', ['--match', 'PHONE']);
    expect(r.report.map((x) => [x.id, x.status])).toEqual([[String(a), 'updated']]);
    expect(sb.lead(a)!.TITLE).toBe('A by phone');
  });

  it('by a custom external-ID field, given by its label: exact stored value, several holders are ambiguous', async () => {
    sb = await startSandbox({
      rate: 1000,
      burst: 1000,
      operatingLimit: 10_000,
      userFields: [{ code: 'UF_CRM_EXT_ID', type: 'string', label: 'External ID' }],
    });
    const [a, , , d] = sb.seedLeads([
      { TITLE: 'A', UF_CRM_EXT_ID: 'CRM-001' },
      { TITLE: 'B1', UF_CRM_EXT_ID: 'CRM-002' },
      { TITLE: 'B2', UF_CRM_EXT_ID: 'CRM-002' },
      { TITLE: 'D', UF_CRM_EXT_ID: 'CRM-004' },
    ]);
    const csv = 'External ID,TITLE\nCRM-001,A by ext\nCRM-002,Which\nCRM-003,None\nCRM-004,D by ext\n';
    const r = await run(csv, ['--match', 'External ID']);
    expect(r.report.map((x) => [x.id, x.status, x.error_code])).toEqual([
      [String(a), 'updated', ''],
      ['', 'failed', 'AMBIGUOUS_MATCH'],
      ['', 'failed', 'NO_MATCH'],
      [String(d), 'updated', ''],
    ]);
    expect(sb.ledger().map((w) => [w.id, w.fields.TITLE])).toEqual([
      [a, 'A by ext'],
      [d, 'D by ext'],
    ]);
  });

  it('2,000 rows by e-mail with 5 % reset-after-apply faults: every lead written once, none it did not match', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000, seed: 5, faults: { resetAfterApply: 0.05 } });
    const ids = sb.seedLeads(
      Array.from({ length: 2000 }, (_, i) => ({ TITLE: `T${i}`, EMAIL: [{ VALUE: `user${i}@example.com`, VALUE_TYPE: 'WORK' }] })),
    );
    const csv = `EMAIL,TITLE,PHONE_MOBILE\n${ids.map((_, i) => `User${i}@Example.com,New ${i},+7 911 ${String(1_000_000 + i).slice(1)}`).join('\n')}\n`;
    const r = await run(csv, ['--match', 'EMAIL']);
    expect(sb.stats().faults.resetAfterApply ?? 0).toBeGreaterThan(0);
    expect(r.report.filter((x) => x.status !== 'updated')).toEqual([]);
    expect(r.report.map((x) => x.id)).toEqual(ids.map(String));
    // Each lead has its own row's title and exactly one mobile phone (no replayed append).
    for (const [i, id] of ids.entries()) {
      const lead = sb.lead(id)!;
      expect(lead.TITLE).toBe(`New ${i}`);
      expect((lead.PHONE ?? []).filter((p) => p.VALUE_TYPE === 'MOBILE')).toHaveLength(1);
    }
    // A re-run writes nothing.
    const writes = sb.ledger().length;
    const again = await run(csv, ['--match', 'EMAIL']);
    expect(again.report.every((x) => x.status === 'unchanged')).toBe(true);
    expect(sb.ledger()).toHaveLength(writes);
  }, 120_000);

  it('a row with an ID uses it; a header without the key column is refused naming --match', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [a, b] = sb.seedLeads([{ TITLE: 'A', EMAIL: [{ VALUE: 'a@example.com', VALUE_TYPE: 'WORK' }] }, { TITLE: 'B' }]);
    const r = await run(`ID,EMAIL,TITLE\n${b},a@example.com,B by ID\n,a@example.com,A by key\n`, ['--match', 'EMAIL']);
    expect(r.report.map((x) => [x.id, x.status])).toEqual([
      [String(b), 'updated'],
      [String(a), 'updated'],
    ]);
    const refused = await run('TITLE\nx\n', ['--match', 'EMAIL']);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/--match EMAIL finds leads by EMAIL, and no column of the header holds it/);
  });
});
