import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import { main } from '../../lambda/cli/main.ts';
import { type OutageProxy, startOutageProxy } from '../support/outageProxy.ts';

let sb: Sandbox | undefined;
let proxy: OutageProxy | undefined;
let dir: string | undefined;
afterEach(async () => {
  await proxy?.close();
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = proxy = dir = undefined;
});

async function setup(down: () => boolean) {
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  const ids = sb.seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }, { TITLE: 'c' }]);
  proxy = await startOutageProxy(sb.webhookUrl, { isDown: down, mode: 'refuse' });
  dir = await mkdtemp(join(tmpdir(), 'cli-down-'));
  await writeFile(join(dir, 'in.csv'), `ID,TITLE\n${ids.map((id) => `${id},new ${id}`).join('\n')}\n`);
  let err = '';
  const io = {
    stdout: { write: () => true },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
    env: { BITRIX24_WEBHOOK_URL: proxy.webhookUrl },
    cwd: dir,
  };
  return { ids, io, err: () => err };
}

async function report() {
  return parse(await readFile(join(dir!, 'out', 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
}

describe('CLI: a portal that is down when the run starts', () => {
  it('is waited out (--outage-wait): the run starts once the portal answers, every row written once', async () => {
    let down = true;
    const { ids, io, err } = await setup(() => down);
    const sleeps: number[] = [];
    const code = await main([join(dir!, 'in.csv'), '--out', join(dir!, 'out'), '--outage-wait', '600'], {
      ...io,
      sleep: async (ms) => {
        sleeps.push(ms);
        down = false; // the portal is back after the first wait
      },
    });
    expect(code).toBe(0);
    expect(sleeps).toEqual([60_000]);
    expect(err()).toMatch(/the portal is unreachable .*trying again in 60 s/);
    expect((await report()).map((r) => [r.id, r.status])).toEqual(ids.map((id) => [String(id), 'updated']));
    expect(sb!.ledger().filter((e) => e.method === 'crm.lead.update')).toHaveLength(3);
  }, 60_000);

  it('past the wait, every row still gets its line (skipped, the reason named) and summary.json says why', async () => {
    const { io } = await setup(() => true);
    const code = await main([join(dir!, 'in.csv'), '--out', join(dir!, 'out'), '--outage-wait', '0'], io);
    expect(code).toBe(1);
    const lines = await report();
    expect(lines.map((r) => [r.status, r.error_code])).toEqual([
      ['skipped', 'RUN_FAILED'],
      ['skipped', 'RUN_FAILED'],
      ['skipped', 'RUN_FAILED'],
    ]);
    expect(lines[0].error_message).toMatch(/PORTAL_UNAVAILABLE/);
    const summary = JSON.parse(await readFile(join(dir!, 'out', 'summary.json'), 'utf8'));
    expect(summary.error.code).toBe('PORTAL_UNAVAILABLE');
    expect(JSON.stringify(summary)).not.toContain(new URL(proxy!.webhookUrl).pathname);
    expect(sb!.ledger()).toHaveLength(0);
  }, 60_000);
});
