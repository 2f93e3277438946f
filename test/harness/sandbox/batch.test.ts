import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callForm, callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

const upd = (id: number, name: string) => `crm.lead.update?id=${id}&fields%5BNAME%5D=${encodeURIComponent(name)}`;

describe('sandbox: batch', () => {
  it('runs keyed commands in order and maps results, totals and times by key', async () => {
    sb = await startSandbox();
    const [a, b] = sb.seedLeads([{}, {}]);
    const res = await callJson(sb, 'batch', {
      halt: 0,
      cmd: { r1: upd(a, 'Ann & Co'), r2: upd(b, 'Bob+1'), l: `crm.lead.list?filter%5B%40ID%5D%5B%5D=${a}&select%5B%5D=NAME` },
    });
    expect(res.status).toBe(200);
    const r = res.body.result;
    expect(r.result).toEqual({ r1: true, r2: true, l: [{ ID: String(a), NAME: 'Ann & Co' }] });
    expect(r.result_error).toEqual([]);
    expect(r.result_total).toEqual({ l: 1 });
    expect(r.result_next).toEqual([]);
    expect(Object.keys(r.result_time)).toEqual(['r1', 'r2', 'l']);
    expect(Object.keys(r.result_time.r1)).toEqual([
      'start',
      'finish',
      'duration',
      'processing',
      'date_start',
      'date_finish',
      'operating_reset_at',
      'operating',
    ]);
    expect(sb.lead(b)!.NAME).toBe('Bob+1');
    expect(sb.ledger().map((e) => [e.id, e.via])).toEqual([
      [a, 'batch'],
      [b, 'batch'],
    ]);
    expect(res.body.time.processing).toBeGreaterThan(0);
  });

  it('answers HTTP 200 with failures in result_error, and runs everything with halt=0', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'batch', { halt: 0, cmd: { x1: upd(999, 'n'), x2: upd(a, 'ok'), x3: 'crm.lead.get?id=abc' } });
    expect(res.status).toBe(200);
    expect(res.body.result.result).toEqual({ x2: true });
    expect(res.body.result.result_error).toEqual({
      x1: { error: '', error_description: 'Lead is not found' },
      x3: { error: '', error_description: 'ID is not defined or invalid.' },
    });
    expect(Object.keys(res.body.result.result_time)).toEqual(['x2']);
  });

  it('with halt=1 stops at the first failure; later commands do not run and are missing from both maps', async () => {
    sb = await startSandbox();
    const [a, b] = sb.seedLeads([{}, {}]);
    const res = await callForm(
      sb,
      'batch',
      new URLSearchParams({ halt: '1', 'cmd[k1]': upd(a, 'A'), 'cmd[k2]': upd(777, 'x'), 'cmd[k3]': upd(b, 'B') }).toString(),
    );
    expect(res.status).toBe(200);
    expect(res.body.result.result).toEqual({ k1: true });
    expect(res.body.result.result_error).toEqual({ k2: { error: '', error_description: 'Lead is not found' } });
    expect(sb.lead(b)!.NAME).toBeNull();
  });

  it('returns JSON lists for an array cmd (keys 0..n-1) and objects once a key is missing', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const list = await callJson(sb, 'batch', { cmd: [upd(a, 'x'), upd(a, 'y')] });
    expect(list.body.result.result).toEqual([true, true]);
    expect(Array.isArray(list.body.result.result_time)).toBe(true);
    const gap = await callJson(sb, 'batch', { cmd: [upd(404, 'x'), upd(a, 'y')] });
    expect(gap.body.result.result).toEqual({ 1: true });
    // Key 0 alone is still a PHP list.
    expect(gap.body.result.result_error).toEqual([{ error: '', error_description: 'Lead is not found' }]);
  });

  it('refuses more than 50 commands with 400 ERROR_BATCH_LENGTH_EXCEEDED and runs none', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const cmd = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`r${i}`, upd(a, `n${i}`)]));
    const res = await callJson(sb, 'batch', { cmd });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
    expect(sb.ledger()).toHaveLength(0);
    const fifty = await callJson(sb, 'batch', { cmd: Object.fromEntries(Object.entries(cmd).slice(0, 50)) });
    expect(fifty.status).toBe(200);
    expect(sb.ledger()).toHaveLength(50);
  });

  it('refuses a nested batch with 405 ERROR_BATCH_METHOD_NOT_ALLOWED', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'batch', { cmd: { u: upd(a, 'before'), a: 'batch?cmd%5Bx%5D=crm.lead.fields' } });
    expect(res.status).toBe(405);
    expect(res.body.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
    expect(sb.ledger()).toHaveLength(0);
  });

  it('decodes double-encoded values and resolves $result references', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{ TITLE: 'Source title' }]);
    const res = await callJson(sb, 'batch', {
      cmd: {
        g: `crm.lead.get?id=${a}`,
        u: `crm.lead.update?id=$result[g][ID]&fields%5BCOMMENTS%5D=${encodeURIComponent('50% off & more = #1')}&fields%5BNAME%5D=$result[g][TITLE]`,
      },
    });
    expect(res.body.result.result_error).toEqual([]);
    expect(sb.lead(a)!.COMMENTS).toBe('50% off & more = #1');
    expect(sb.lead(a)!.NAME).toBe('Source title');
  });

  it('carries params[REGISTER_SONET_EVENT] from a command into the ledger', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    await callJson(sb, 'batch', { cmd: { r: `${upd(a, 'x')}&params%5BREGISTER_SONET_EVENT%5D=N` } });
    expect(sb.ledger()[0]).toMatchObject({ id: a, via: 'batch', params: { REGISTER_SONET_EVENT: 'N' } });
  });
});
