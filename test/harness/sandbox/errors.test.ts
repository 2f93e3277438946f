import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callJson, get } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

const upd = (id: number, name = 'x') => `crm.lead.update?id=${id}&fields%5BNAME%5D=${name}`;

describe("sandbox: the server's own error texts and statuses", () => {
  it('crm.lead.update on a missing ID: 400, empty error, "Lead is not found" (crm.lead.get keeps "Not found")', async () => {
    sb = await startSandbox();
    const res = await callJson(sb, 'crm.lead.update', { id: 4242, fields: { NAME: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: '', error_description: 'Lead is not found' });
    expect((await callJson(sb, 'crm.lead.get', { id: 4242 })).body).toEqual({ error: '', error_description: 'Not found' });
    const batch = await callJson(sb, 'batch', { cmd: { a: upd(4242) } });
    expect(batch.body.result.result_error).toEqual({ a: { error: '', error_description: 'Lead is not found' } });
  });

  it('a non-admin webhook gets "Access denied." for a missing ID (the permission check runs first); its own leads still update', async () => {
    sb = await startSandbox({ admin: false });
    const [id] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'crm.lead.update', { id: 4242, fields: { NAME: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: '', error_description: 'Access denied.' });
    expect((await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'ok' } })).body.result).toBe(true);
  });

  it('error answers carry no time block', async () => {
    sb = await startSandbox();
    for (const res of [
      await callJson(sb, 'crm.lead.update', { id: 4242, fields: { NAME: 'x' } }),
      await callJson(sb, 'crm.lead.get', { id: 'abc' }),
      await callJson(sb, 'crm.lead.nope'),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description']);
    }
  });

  it('an unknown method is 404 ERROR_METHOD_NOT_FOUND "Method not found!", looked up before the webhook is checked', async () => {
    sb = await startSandbox({ code: 'right' });
    const missing = await callJson(sb, 'crm.lead.nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' });
    const wrongCode = await get(`${sb.url}/rest/1/wrong/crm.lead.nope`);
    expect(wrongCode.status).toBe(404);
  });

  it('a call without webhook credentials (the OAuth path) is 401 NO_AUTH_FOUND', async () => {
    sb = await startSandbox();
    const res = await get(`${sb.url}/rest/crm.lead.fields.json?auth=not-a-token`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' });
  });

  it('the 401 family of webhook auth, injectable, and PORTAL_DELETED 403', async () => {
    sb = await startSandbox({ authFault: 'ownerDeactivated' });
    const cases: Array<[Parameters<Sandbox['setAuthFault']>[0], number, string, string]> = [
      ['ownerDeactivated', 401, 'authorization_error', 'Unable to authorize user'],
      ['insufficientScope', 401, 'insufficient_scope', 'The request requires higher privileges than provided by the webhook token'],
      ['httpsRequired', 401, 'INVALID_REQUEST', 'Https required.'],
      ['notCommercial', 401, 'ACCESS_DENIED', 'REST is available only on commercial plans.'],
      ['webhookOnHold', 401, 'OVERLOAD_LIMIT', 'REST API is blocked due to overload'],
      ['noAuth', 401, 'NO_AUTH_FOUND', 'Wrong authorization data'],
      ['portalDeleted', 403, 'PORTAL_DELETED', 'Portal was deleted'],
    ];
    for (const [kind, status, error, description] of cases) {
      sb.setAuthFault(kind);
      const res = await callJson(sb, 'crm.lead.fields');
      expect([kind, res.status, res.body]).toEqual([kind, status, { error, error_description: description }]);
    }
    sb.setAuthFault(undefined);
    expect((await callJson(sb, 'crm.lead.fields')).status).toBe(200);
    expect(sb.stats().refusals.authorization_error).toBe(1);
  });

  it('a webhook without the crm scope: 401 insufficient_scope directly, per command inside batch', async () => {
    sb = await startSandbox({ scopes: ['user'] });
    expect((await callJson(sb, 'crm.lead.fields')).body.error).toBe('insufficient_scope');
    const batch = await callJson(sb, 'batch', { cmd: { f: 'crm.lead.fields' } });
    expect(batch.status).toBe(200);
    expect(batch.body.result.result_error.f.error).toBe('insufficient_scope');
  });

  it('ERROR_CORE "SQL query error!" as an injectable fault: 500 at top level, per command inside batch; nothing applied', async () => {
    sb = await startSandbox({ faults: { sqlError: 1 } });
    const [id] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'x' } });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'ERROR_CORE', error_description: 'SQL query error!' });
    sb.setFaults({ sqlErrorCommand: 1 });
    const batch = await callJson(sb, 'batch', { cmd: { a: upd(id), b: upd(id) } });
    expect(batch.status).toBe(200);
    expect(batch.body.result.result_error).toEqual({
      a: { error: 'ERROR_CORE', error_description: 'SQL query error!' },
      b: { error: 'ERROR_CORE', error_description: 'SQL query error!' },
    });
    expect(batch.body.result.result_time).toEqual([]);
    expect(sb.ledger()).toHaveLength(0);
    expect(sb.stats().faults.sqlError).toBe(3);
  });
});
