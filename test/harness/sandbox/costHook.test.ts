import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

describe('sandbox: the cost hook', () => {
  it("prices each call by (method, params, request, index): a batch's commands share the request number", async () => {
    const seen: Array<[string, number, number]> = [];
    sb = await startSandbox({
      operatingMinFix: 0,
      fractionalTime: true,
      cost: (method, params, request, index) => {
        seen.push([method, request, index]);
        if (method !== 'crm.lead.update') return undefined; // the table's cost
        return params.id === '2' || params.id === 2 ? 0.5 : 0.25;
      },
    });
    const [a, b] = sb.seedLeads([{}, {}]);
    const cmd = { x: `crm.lead.update?id=${a}&fields[NAME]=A`, y: `crm.lead.update?id=${b}&fields[NAME]=B` };
    const batch = await callJson(sb, 'batch', { cmd });
    const times = batch.body.result.result_time;
    expect([times.x.processing, times.y.processing]).toEqual([0.25, 0.5]);
    expect(times.y.operating).toBe(0.75);
    const direct = await callJson(sb, 'crm.lead.get', { id: a });
    expect(direct.body.time.processing).toBe(0.02); // crm.lead.get from the cost table
    expect(seen).toEqual([
      ['crm.lead.update', 1, 0],
      ['crm.lead.update', 1, 1],
      ['crm.lead.get', 2, 0],
    ]);
  });
});
