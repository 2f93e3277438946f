import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callForm, callJson, get } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

describe('sandbox: auth and parameters', () => {
  it('answers a wrong webhook code with 401 INVALID_CREDENTIALS', async () => {
    sb = await startSandbox({ code: 'right' });
    const bad = await get(`${sb.url}/rest/1/wrong/crm.lead.fields.json`);
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ error: 'INVALID_CREDENTIALS', error_description: 'Invalid request credentials' });
    const wrongUser = await get(`${sb.url}/rest/2/right/crm.lead.fields`);
    expect(wrongUser.status).toBe(401);
    const ok = await get(`${sb.webhookUrl}crm.lead.fields`);
    expect(ok.status).toBe(200);
    expect(ok.body.result.TITLE.type).toBe('string');
  });

  it('takes JSON bodies and PHP-style form bodies alike, with URL-encoded values', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'x' }]);
    const json = await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'A & B', PHONE: [{ VALUE: '+1 555', VALUE_TYPE: 'WORK' }] } });
    expect(json.body.result).toBe(true);
    const form = await callForm(
      sb,
      'crm.lead.update',
      `id=${id}&fields[LAST_NAME]=O%27Brien+Jr%26Co&fields[PHONE][0][VALUE]=%2B49+30&fields[PHONE][0][VALUE_TYPE]=MOBILE`,
    );
    expect(form.status).toBe(200);
    expect(form.body.result).toBe(true);
    const lead = sb.lead(id)!;
    expect(lead.NAME).toBe('A & B');
    expect(lead.LAST_NAME).toBe("O'Brien Jr&Co");
    expect(lead.PHONE!.map((p) => [p.VALUE, p.VALUE_TYPE])).toEqual([
      ['+1 555', 'WORK'],
      ['+49 30', 'MOBILE'],
    ]);
  });

  it('merges query-string parameters with the body', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'x' }]);
    const res = await callForm(sb, 'crm.lead.update', 'fields[NAME]=Zoe', `id=${id}`);
    expect(res.body.result).toBe(true);
    expect(sb.lead(id)!.NAME).toBe('Zoe');
  });

  it('accepts the method without .json and answers unknown methods with 404', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    const res = await get(`${sb.webhookUrl}crm.lead.get?id=${id}`);
    expect(res.body.result.TITLE).toBe('T');
    const missing = await get(`${sb.webhookUrl}crm.lead.nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('ERROR_METHOD_NOT_FOUND');
  });

  it('puts a time block in every answer', async () => {
    sb = await startSandbox({ costs: { 'crm.lead.get': 0.25 } });
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    const res = await callJson(sb, 'crm.lead.get', { id });
    const t = res.body.time;
    expect(Object.keys(t)).toEqual([
      'start',
      'finish',
      'duration',
      'processing',
      'date_start',
      'date_finish',
      'operating_reset_at',
      'operating',
    ]);
    expect(t.processing).toBe(0); // whole seconds on current portals
    expect(Number.isInteger(t.start)).toBe(true);
    expect(t.operating).toBe(0.25);
    expect(t.date_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
    expect(t.operating_reset_at).toBeGreaterThan(t.start + 599);
  });

  it('serves the inspection endpoints', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'N' }, params: { REGISTER_SONET_EVENT: 'N' } });
    const leads = await get(`${sb.url}/_sandbox/leads`);
    expect(leads.body[0].NAME).toBe('N');
    const ledger = await get(`${sb.url}/_sandbox/ledger`);
    expect(ledger.body[0]).toMatchObject({
      seq: 1,
      method: 'crm.lead.update',
      id,
      fields: { NAME: 'N' },
      params: { REGISTER_SONET_EVENT: 'N' },
      via: 'direct',
    });
    const stats = await get(`${sb.url}/_sandbox/stats`);
    expect(stats.body.byMethod['crm.lead.update']).toBe(1);
    expect(stats.body.writes).toBe(1);
  });
});
