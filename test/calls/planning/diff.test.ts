import { describe, expect, it } from 'vitest';
import { COMMANDS_PER_BATCH, IDS_PER_COMMAND, createDiffPlanner, listCommands, selectFor } from '../../../lambda/calls/planning/diff.ts';
import { parsePhpQuery, asList } from '../../../harness/sandbox/query.ts';
import type { BatchResult, LeadRecord, PortalApi, ValidRow } from '../../../lambda/types.ts';

/** A tiny in-memory portal behind the PortalApi seam: crm.lead.list with @ID filter and select. */
function fakePortal(leads: LeadRecord[], opts: { failKeys?: Set<string> } = {}) {
  const byId = new Map(leads.map((l) => [Number(l.ID), l]));
  const calls: { cmd: Record<string, string> }[] = [];
  const api: PortalApi = {
    async call() {
      throw new Error('the planner must read through batch only');
    },
    async batch(cmd): Promise<BatchResult> {
      calls.push({ cmd });
      if (Object.keys(cmd).length > 50) throw new Error('ERROR_BATCH_LENGTH_EXCEEDED');
      const result: Record<string, unknown> = {};
      const errors: BatchResult['errors'] = {};
      for (const [key, text] of Object.entries(cmd)) {
        const [method, query] = text.split('?');
        expect(method).toBe('crm.lead.list');
        if (opts.failKeys?.has(key)) {
          errors[key] = { error: 'ACCESS_DENIED', error_description: 'Access denied.' };
          continue;
        }
        const p = parsePhpQuery(query);
        // one page: no start at all (a portal that reads start=-1 as an offset would hide leads)
        expect(p.start).toBeUndefined();
        const ids = (asList((p.filter as Record<string, unknown>)['@ID']) ?? []).map(Number);
        expect(ids.length).toBeLessThanOrEqual(50);
        const select = (asList(p.select) ?? []).map(String);
        result[key] = ids
          .filter((id) => byId.has(id))
          .map((id) => Object.fromEntries(Object.entries(byId.get(id)!).filter(([k]) => k === 'ID' || select.includes(k))));
      }
      return { result, errors };
    },
  };
  return { api, calls };
}

let line = 1;
const row = (id: number, fields: ValidRow['fields'], clears: string[] = []): ValidRow => ({
  line: ++line,
  id,
  fields,
  clears,
  warnings: [],
  raw: '',
});
const lead = (id: number, extra: Record<string, unknown> = {}): LeadRecord => ({
  ID: String(id),
  TITLE: `Lead ${id}`,
  OPPORTUNITY: '0.00',
  ...extra,
});

describe('createDiffPlanner', () => {
  it('reads 2,500 leads in ONE batch request of 50 list commands × 50 IDs', async () => {
    const leads = Array.from({ length: 2500 }, (_, i) => lead(i + 1));
    const { api, calls } = fakePortal(leads);
    const rows = leads.map((l) => row(Number(l.ID), { TITLE: l.TITLE as string }));
    const plans = await createDiffPlanner({ api, options: { multifield: 'merge' } }).plan(rows, Date.now() + 60_000);
    expect(calls).toHaveLength(1);
    expect(Object.keys(calls[0].cmd)).toHaveLength(COMMANDS_PER_BATCH);
    expect(IDS_PER_COMMAND * COMMANDS_PER_BATCH).toBe(2500);
    expect(plans.every((p) => p.fields === null && !p.outcome)).toBe(true);
  });
  it('2,501 distinct IDs take a second request; a repeated ID is read once', async () => {
    const leads = Array.from({ length: 2501 }, (_, i) => lead(i + 1));
    const { api, calls } = fakePortal(leads);
    const rows = [...leads.map((l) => row(Number(l.ID), { TITLE: 'x' })), row(1, { TITLE: 'y' })];
    const plans = await createDiffPlanner({ api, options: { multifield: 'merge' } }).plan(rows, Date.now() + 60_000);
    expect(calls).toHaveLength(2);
    expect(Object.keys(calls[1].cmd)).toHaveLength(1);
    expect(plans).toHaveLength(2502);
    expect(plans[2501].fields).toEqual({ TITLE: 'y' });
  });
  it('selects ID, the row fields and the multifields the rows set or clear', () => {
    const select = selectFor([row(1, { TITLE: 'x', PHONE: [{ VALUE: '1', VALUE_TYPE: 'WORK' }] }), row(2, {}, ['EMAIL:HOME'])]);
    expect(select.sort()).toEqual(['EMAIL', 'ID', 'PHONE', 'TITLE']);
    // CONTACT_IDS is never returned by crm.lead.list: it is not asked for.
    expect(selectFor([row(1, { CONTACT_IDS: [3] })])).toEqual(['ID']);
    const cmd = listCommands([1, 2], select);
    expect(Object.keys(cmd)).toEqual(['l0']);
    expect(cmd.l0).toContain('filter%5B%40ID%5D%5B0%5D=1');
  });
  it('missing leads fail NOT_FOUND; a failed read command fails its rows only', async () => {
    const leads = Array.from({ length: 60 }, (_, i) => lead(i + 1));
    const { api } = fakePortal(leads, { failKeys: new Set(['l1']) });
    const rows = [row(3, { TITLE: 'new' }), row(55, { TITLE: 'x' }), row(9999, { TITLE: 'x' })];
    const plans = await createDiffPlanner({ api, options: { multifield: 'merge' } }).plan(rows, Date.now() + 60_000);
    // ids in order of first appearance: [3, 55, 9999] fit in one command (l0): nothing fails to read.
    expect(plans[0].fields).toEqual({ TITLE: 'new' });
    expect(plans[2].outcome).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND', message: 'Not found', attempts: 0 });
    const many = Array.from({ length: 60 }, (_, i) => row(i + 1, { TITLE: 'changed' }));
    const out = await createDiffPlanner({ api, options: { multifield: 'merge' } }).plan(many, Date.now() + 60_000);
    expect(out.slice(0, 50).every((p) => p.fields !== null)).toBe(true);
    expect(out.slice(50).every((p) => p.outcome?.errorCode === 'ACCESS_DENIED')).toBe(true);
  });
  it('reads fresh on every call: a write applied between calls is seen (retry after reset-after-apply)', async () => {
    const l = lead(7, { PHONE: [] as unknown[] });
    const { api, calls } = fakePortal([l]);
    const planner = createDiffPlanner({ api, options: { multifield: 'merge' } });
    const r = row(7, { PHONE: [{ VALUE: '+1555', VALUE_TYPE: 'WORK' }] });
    const first = await planner.plan([r], Date.now() + 60_000);
    expect(first[0].fields).toEqual({ PHONE: [{ VALUE: '+1555', VALUE_TYPE: 'WORK' }] });
    // The portal applied the write, the answer was lost: the sender re-plans before re-sending.
    (l as Record<string, unknown>).PHONE = [{ ID: '1', VALUE_TYPE: 'WORK', VALUE: '+1555', TYPE_ID: 'PHONE' }];
    const second = await planner.plan([r], Date.now() + 60_000);
    expect(second[0].fields).toBeNull();
    expect(calls).toHaveLength(2);
  });
  it('groups not started before the deadline come back DEFERRED', async () => {
    const leads = Array.from({ length: 2600 }, (_, i) => lead(i + 1));
    const { api, calls } = fakePortal(leads);
    let t = 0;
    const rows = leads.map((l) => row(Number(l.ID), { TITLE: 'x' }));
    const wrapped: PortalApi = {
      call: api.call,
      batch: async (c, o) => {
        t = 100;
        return api.batch(c, o);
      },
    };
    const plans = await createDiffPlanner({ api: wrapped, options: { multifield: 'merge' }, now: () => t }).plan(rows, 50);
    expect(calls).toHaveLength(1);
    expect(plans[2499].fields).toEqual({ TITLE: 'x' });
    expect(plans[2500].outcome).toMatchObject({ status: 'skipped', errorCode: 'DEFERRED' });
  });
});
