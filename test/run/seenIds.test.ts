import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import { main } from '../../lambda/cli/main.ts';
import { SeenIds } from '../../lambda/run/seenIds.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';

let dir: string | undefined;
let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = sb = undefined;
});

describe('a lead named twice in one file', () => {
  it('the later row names the earlier line, across chunks too; a row read again is not a repeat', async () => {
    dir = await mkdtemp(join(tmpdir(), 'seen-'));
    const store = new FsStore(dir);
    const first = await SeenIds.load(store, 'parts/r/', 0);
    expect(first.note(7, 2)).toBeUndefined();
    expect(first.note(8, 3)).toBeUndefined();
    expect(first.note(7, 4)).toBe(2);
    // Many IDs: the table grows and keeps every first line.
    for (let id = 100; id < 20_100; id++) expect(first.note(id, id)).toBeUndefined();
    expect(first.note(19_999, 1)).toBe(19_999);
    await first.save(store, 'parts/r/', 0);

    const second = await SeenIds.load(store, 'parts/r/', 1);
    expect(second.note(8, 90)).toBe(3);
    expect(second.note(7, 91)).toBe(2);
    // A row of chunk 0 deferred and read again by chunk 1: the same line, no warning.
    expect(second.note(8, 3)).toBeUndefined();
    expect(second.note(5, 92)).toBeUndefined();
    // A part at or past the chunk's own number is a dead chunk's: not loaded.
    await second.save(store, 'parts/r/', 1);
    const again = await SeenIds.load(store, 'parts/r/', 1);
    expect(again.note(5, 200)).toBeUndefined();
  });

  it('through the CLI: both rows apply in file order, the later one warns', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const [a] = sb.seedLeads([{ TITLE: 'Old' }]);
    dir = await mkdtemp(join(tmpdir(), 'seen-cli-'));
    await writeFile(join(dir, 'export.csv'), `ID,TITLE,COMMENTS\n${a},First product,one\n${a},Second product,\n`);
    const sink = { write: () => true };
    const code = await main([join(dir, 'export.csv'), '--out', join(dir, 'out')], {
      stdout: sink,
      stderr: sink,
      env: { BITRIX24_WEBHOOK_URL: sb.webhookUrl },
      cwd: dir,
    });
    expect(code).toBe(0);
    const report = parse(await readFile(join(dir, 'out', 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(report.map((r) => [r.line, r.status, r.error_message])).toEqual([
      ['2', 'updated', ''],
      ['3', 'updated', `line 3: lead ${a} is also on line 2; the rows apply in file order, so where they differ this row's values win`],
    ]);
    expect(sb.lead(a)).toMatchObject({ TITLE: 'Second product', COMMENTS: 'one' });
  });
});
