import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callJson } from '../../support/sandbox.ts';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('OPPORTUNITY is stored as DECIMAL(18,2): the digits rounded half away from zero', () => {
  it.each([
    ['10.005', '10.01'],
    ['1.005', '1.01'],
    ['-10.005', '-10.01'],
    ['2.675', '2.68'],
    ['9.995', '10.00'],
    ['12500', '12500.00'],
    ['0.0000001', '0.00'],
  ])('%s is printed %s', async (sent, stored) => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'a' }]);
    const r = await callJson(sb, 'crm.lead.update', { id, fields: { OPPORTUNITY: sent } });
    expect(r.body.result).toBe(true);
    expect(sb.lead(id)?.OPPORTUNITY).toBe(stored);
  });
});
