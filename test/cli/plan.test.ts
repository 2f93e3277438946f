import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../../lambda/cli/main.ts';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

function io(env: Record<string, string>, cwd: string): CliIO & { text: () => string } {
  let out = '';
  const sink = {
    write: (s: string) => {
      out += s;
      return true;
    },
  };
  return { stdout: sink, stderr: sink, env, cwd, text: () => out };
}

/** A portal with three leads, a file that changes one, repeats one and names a missing lead. */
async function setup() {
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  const [a, b] = sb.seedLeads([
    { TITLE: 'Old title', PHONE: [{ VALUE: '+7 900 111-22-33', VALUE_TYPE: 'WORK' }] },
    { TITLE: 'Same', PHONE: [{ VALUE: '+79002223344', VALUE_TYPE: 'MOBILE' }] },
  ]);
  dir = await mkdtemp(join(tmpdir(), 'cli-plan-'));
  const file = join(dir, 'leads.csv');
  await writeFile(file, `ID,TITLE,PHONE_MOBILE\n${a},New title,+7 900 555-66-77\n${b},Same,+7 (900) 222-33-44\n999999,Ghost,\n`);
  return { a, b, file, out: join(dir, 'out') };
}

describe('dry run with a portal: plan.csv previews each row, nothing is written', () => {
  it('lists the fields each row would change, reads only, and reports a missing lead', async () => {
    const { a, b, file, out } = await setup();
    const cli = io({ BITRIX24_WEBHOOK_URL: sb!.webhookUrl }, dir!);
    const code = await main([file, '--dry-run', '--out', out], cli);

    expect(sb!.ledger()).toHaveLength(0);
    const report = parse(await readFile(join(out, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(report.map((r) => [r.id, r.status, r.error_code])).toEqual([
      [String(a), 'valid', ''],
      [String(b), 'valid', ''],
      ['999999', 'failed', 'NOT_FOUND'],
    ]);
    const plan = parse(await readFile(join(out, 'plan.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(plan[0])).toEqual(['line', 'id', 'status', 'changes']);
    expect(plan.map((r) => [r.line, r.changes])).toEqual([
      ['2', 'TITLE;PHONE:MOBILE+1'],
      ['3', ''],
      ['4', ''],
    ]);
    expect(code).toBe(1); // the missing lead fails the row
    expect(cli.text()).toContain('plan.csv');
  });

  it('a real run after the preview writes exactly what the plan said, and a re-run writes nothing', async () => {
    const { a, file, out } = await setup();
    const env = { BITRIX24_WEBHOOK_URL: sb!.webhookUrl };
    await main([file, '--out', out], io(env, dir!));
    const writes = sb!.ledger();
    expect(writes.map((w) => w.id)).toEqual([a]);
    expect(sb!.lead(a)?.TITLE).toBe('New title');
    expect(
      sb!
        .lead(a)
        ?.PHONE?.map((p) => p.VALUE_TYPE)
        .sort(),
    ).toEqual(['MOBILE', 'WORK']);

    await main([file, '--out', out], io(env, dir!));
    expect(sb!.ledger()).toHaveLength(writes.length);
    const report = parse(await readFile(join(out, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(report.map((r) => r.status)).toEqual(['unchanged', 'unchanged', 'failed']);
  });
});
