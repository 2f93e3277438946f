import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import { main } from '../../lambda/cli/main.ts';
import type { LeadRecord } from '../../lambda/types.ts';
import { callJson } from '../support/sandbox.ts';

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

const FIELDS = ['TITLE', 'COMMENTS', 'NAME', 'OPPORTUNITY'];
/** A lead as a person compares it: the fields, and each multifield as a sorted list of VALUE_TYPE:VALUE (IDs change on re-adding). */
function shape(l: LeadRecord | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = l?.[f];
  for (const t of ['PHONE', 'EMAIL', 'WEB'] as const) out[t] = (l?.[t] ?? []).map((e) => `${e.VALUE_TYPE}:${e.VALUE}`).sort();
  return out;
}
const all = () => sb!.leads().map(shape);

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const sink = {
    write: (s: string) => {
      err += s;
      return true;
    },
  };
  const code = await main(args, { stdout: sink, stderr: sink, env: { BITRIX24_WEBHOOK_URL: sb!.webhookUrl }, cwd: dir! });
  return { code, err };
}
const report = async (folder: string) =>
  parse(await readFile(join(dir!, folder, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
const jsonl = async (folder: string) =>
  (await readFile(join(dir!, folder, 'changes.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: number; field: string; before: string; after: string });

async function setup(faults?: { resetAfterApply: number }) {
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000, seed: 7, ...(faults ? { faults } : {}) });
  const ids = sb.seedLeads([
    {
      TITLE: 'A0',
      COMMENTS: 'keep',
      OPPORTUNITY: '100.00',
      PHONE: [
        { VALUE: '+7 900 111-11-11', VALUE_TYPE: 'WORK' },
        { VALUE: '+7 900 222-22-22', VALUE_TYPE: 'HOME' },
      ],
      EMAIL: [{ VALUE: 'a@example.com', VALUE_TYPE: 'WORK' }],
    },
    { TITLE: 'B0', NAME: 'Bob', EMAIL: [{ VALUE: 'b@example.com', VALUE_TYPE: 'HOME' }] },
    { TITLE: 'C0' },
  ]);
  dir = await mkdtemp(join(tmpdir(), 'undo-'));
  await writeFile(
    join(dir, 'import.csv'),
    [
      'ID,TITLE,NAME,OPPORTUNITY,PHONE_MOBILE,EMAIL_WORK',
      `${ids[0]},A1,,250,+7 900 333-33-33,a@example.com`,
      `${ids[1]},B1,Robert,,,b2@example.com`,
      `${ids[2]},C0,,,,`,
    ].join('\n') + '\n',
  );
  return ids;
}

describe('undo: a run taken back', () => {
  it("every lead is back as it was, field by field and entry by entry; the undo's change log mirrors the import's", async () => {
    await setup();
    const before = all();
    expect((await cli(['import.csv', '--multifield', 'replace', '--out', 'run'])).code).toBe(0);
    const after = all();
    expect(after).not.toEqual(before);
    const log = await jsonl('run');
    expect(log.map((e) => e.field.replace(/#\d+$/, '#n')).sort()).toEqual(
      ['EMAIL:HOME#n', 'EMAIL:WORK', 'NAME', 'OPPORTUNITY', 'PHONE:HOME#n', 'PHONE:MOBILE', 'PHONE:WORK#n', 'TITLE', 'TITLE'].sort(),
    );
    const csv = await readFile(join(dir!, 'run', 'changes.csv'), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('line,id,field,before,after');

    const undo = await cli(['undo', 'run']);
    expect(undo.code).toBe(0);
    expect(all()).toEqual(before);
    expect((await report('run-undo')).map((r) => r.status)).toEqual(['updated', 'updated']);
    // Mirror: what the import changed from X to Y, the undo changed from Y to X (entry IDs aside).
    const strip = (f: string) => f.replace(/#\d+$/, '');
    const there = log.map((e) => `${e.id} ${strip(e.field)} ${e.before} → ${e.after}`).sort();
    const back = (await jsonl('run-undo')).map((e) => `${e.id} ${strip(e.field)} ${e.after} → ${e.before}`).sort();
    expect(back).toEqual(there);

    // An undo of the undo restores the import's result.
    expect((await cli(['undo', 'run-undo'])).code).toBe(0);
    expect(all()).toEqual(after);
  });

  it("an undo given the import's --match still keys its rows by ID (its input has no e-mail column)", async () => {
    await setup();
    const before = all();
    expect((await cli(['import.csv', '--out', 'run'])).code).toBe(0);
    const undo = await cli(['undo', 'run', '--match', 'EMAIL']);
    expect(undo.err).not.toMatch(/MISSING_KEY_COLUMN/);
    expect(undo.code).toBe(0);
    expect(all()).toEqual(before);
  });

  it('a field another writer changed since keeps their value and is reported CONFLICT; the rest is reverted', async () => {
    const ids = await setup();
    const before = all();
    expect((await cli(['import.csv', '--out', 'run'])).code).toBe(0);
    await callJson(sb!, 'crm.lead.update', { id: ids[0], fields: { TITLE: 'Manager wrote this' } });
    const undo = await cli(['undo', 'run']);
    expect(undo.code).toBe(0);
    const lines = await report('run-undo');
    expect(lines[0]).toMatchObject({ id: String(ids[0]), status: 'updated', error_code: 'CONFLICT' });
    expect(lines[0].error_message).toContain('TITLE (now "Manager wrote this")');
    const now = all();
    expect(now[0]).toEqual({ ...before[0], TITLE: 'Manager wrote this' });
    expect(now.slice(1)).toEqual(before.slice(1));
  });

  it('a run without a change log (--no-diff) says it cannot be undone', async () => {
    await setup();
    expect((await cli(['import.csv', '--no-diff', '--out', 'blind'])).code).toBe(0);
    const summary = JSON.parse(await readFile(join(dir!, 'blind', 'summary.json'), 'utf8'));
    expect(summary.changeLog).toBe(false);
    const undo = await cli(['undo', 'blind']);
    expect(undo.code).toBe(2);
    expect(undo.err).toMatch(/no change log .*--no-diff.*cannot be undone/);
  });

  it('with 5 % reset-after-apply faults on the import and on the undo, the end state is exactly the state before', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000, seed: 11, faults: { resetAfterApply: 0.05 } });
    const ids = sb.seedLeads(
      Array.from({ length: 2000 }, (_, i) => ({
        TITLE: `T${i}`,
        PHONE: [{ VALUE: `+7 900 ${String(1_000_000 + i).slice(1)}`, VALUE_TYPE: 'WORK' }],
        EMAIL: [{ VALUE: `u${i}@example.com`, VALUE_TYPE: 'WORK' }],
      })),
    );
    dir = await mkdtemp(join(tmpdir(), 'undo-faults-'));
    const rows = ids.map((id, i) => `${id},New ${i},+7 911 ${String(1_000_000 + i).slice(1)},n${i}@example.com`);
    await writeFile(join(dir, 'import.csv'), ['ID,TITLE,PHONE_MOBILE,EMAIL_HOME', ...rows].join('\n') + '\n');
    const before = all();
    expect((await cli(['import.csv', '--multifield', 'replace', '--out', 'run'])).code).toBe(0);
    const resetsOnImport = sb.stats().faults.resetAfterApply ?? 0;
    expect(resetsOnImport).toBeGreaterThan(0);
    expect(all()).not.toEqual(before);
    expect((await cli(['undo', 'run'])).code).toBe(0);
    expect(sb.stats().faults.resetAfterApply ?? 0).toBeGreaterThan(resetsOnImport);
    expect(all()).toEqual(before);
    // No phone or e-mail twice on any lead.
    for (const l of sb.leads())
      for (const t of ['PHONE', 'EMAIL'] as const) {
        const values = (l[t] ?? []).map((e) => e.VALUE);
        expect(new Set(values).size).toBe(values.length);
      }
  }, 120_000);
});
