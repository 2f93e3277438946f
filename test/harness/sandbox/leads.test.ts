import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callForm, callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

describe('sandbox: crm.lead.update semantics', () => {
  it('ignores unknown and read-only fields and still answers true', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'Old' }]);
    const before = sb.lead(id)!;
    const res = await callJson(sb, 'crm.lead.update', {
      id,
      fields: { TITEL: 'typo', UF_CRM_NOPE: 'x', DATE_CREATE: '2001-01-01T00:00:00+03:00', HAS_PHONE: 'Y', ID: 999, TITLE: 'New' },
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toBe(true);
    const after = sb.lead(id)!;
    expect(after.TITLE).toBe('New');
    expect(after.ID).toBe(String(id));
    expect(after.DATE_CREATE).toBe(before.DATE_CREATE);
    expect(after.HAS_PHONE).toBe('N');
    expect('TITEL' in after).toBe(false);
    expect('UF_CRM_NOPE' in after).toBe(false);
  });

  it('appends multifield values without ID, changes them with ID, deletes with DELETE, empty VALUE or ID alone', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([
      { PHONE: [{ VALUE: '+100', VALUE_TYPE: 'WORK' }, { VALUE: '+200', VALUE_TYPE: 'HOME' }, { VALUE: '+300' }, { VALUE: '+400' }] },
    ]);
    const ids = sb.lead(id)!.PHONE!.map((p) => p.ID);
    expect(new Set(ids).size).toBe(4);
    await callJson(sb, 'crm.lead.update', {
      id,
      fields: {
        PHONE: [
          { ID: ids[0], VALUE: '+101', VALUE_TYPE: 'MOBILE' },
          { ID: ids[1], DELETE: 'Y' },
          { ID: ids[2], VALUE: '' },
          { ID: ids[3] },
          { VALUE: '+500', VALUE_TYPE: 'FAX' },
        ],
      },
    });
    const phones = sb.lead(id)!.PHONE!;
    expect(phones.map((p) => [p.VALUE, p.VALUE_TYPE, p.TYPE_ID])).toEqual([
      ['+101', 'MOBILE', 'PHONE'],
      ['+500', 'FAX', 'PHONE'],
    ]);
    expect(phones[0].ID).toBe(ids[0]);
    expect(ids).not.toContain(phones[1].ID);
    // Replaying an append duplicates it, as on the real portal.
    await callJson(sb, 'crm.lead.update', { id, fields: { PHONE: [{ VALUE: '+500', VALUE_TYPE: 'FAX' }] } });
    expect(sb.lead(id)!.PHONE!.filter((p) => p.VALUE === '+500')).toHaveLength(2);
  });

  it('treats a multifield sent as an object keyed 0,1 (PHP form style) like an array; an empty array does nothing', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ EMAIL: ['a@x.io'] }]);
    await callJson(sb, 'crm.lead.update', {
      id,
      fields: { EMAIL: { 0: { VALUE: 'b@x.io', VALUE_TYPE: 'HOME' }, 1: { VALUE: 'c@x.io' } } },
    });
    await callForm(sb, 'crm.lead.update', `id=${id}&fields[EMAIL][n0][VALUE]=d%40x.io`);
    await callJson(sb, 'crm.lead.update', { id, fields: { EMAIL: [] } });
    expect(sb.lead(id)!.EMAIL!.map((e) => e.VALUE)).toEqual(['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io']);
    expect(sb.lead(id)!.HAS_EMAIL).toBe('Y');
  });

  it('answers a missing lead with HTTP 400, empty error and "Lead is not found" (get: "Not found")', async () => {
    sb = await startSandbox();
    const res = await callJson(sb, 'crm.lead.update', { id: 4242, fields: { NAME: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: '', error_description: 'Lead is not found' });
    const get = await callJson(sb, 'crm.lead.get', { id: 4242 });
    expect(get.status).toBe(400);
    expect(get.body).toEqual({ error: '', error_description: 'Not found' });
    expect(sb.ledger()).toHaveLength(0);
  });

  it('casts IDs the PHP way and refuses missing or non-positive ones', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ ID: 12, TITLE: 'twelve' }]);
    expect(id).toBe(12);
    const cast = await callForm(sb, 'crm.lead.update', 'id=12abc&fields[NAME]=Cast');
    expect(cast.body.result).toBe(true);
    expect(sb.lead(12)!.NAME).toBe('Cast');
    for (const bad of [{}, { id: 'abc' }, { id: 0 }, { id: -3 }]) {
      const res = await callJson(sb, 'crm.lead.update', { ...bad, fields: { NAME: 'x' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: '', error_description: 'ID is not defined or invalid.' });
    }
    const upper = await callJson(sb, 'crm.lead.get', { ID: '12' });
    expect(upper.body.result.NAME).toBe('Cast');
  });

  it('stores values the way crm.lead.get prints them', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'Fmt' }]);
    await callJson(sb, 'crm.lead.update', {
      id,
      fields: {
        OPPORTUNITY: 12500,
        ASSIGNED_BY_ID: '7',
        BIRTHDATE: '1990-05-17',
        COMPANY_ID: 3,
        UF_CRM_SEGMENT: '',
        UF_CRM_LOYALTY_CARD: 55,
      },
    });
    const lead = sb.lead(id)!;
    expect(lead.ID).toBe(String(id));
    expect(lead.OPPORTUNITY).toBe('12500.00');
    expect(lead.ASSIGNED_BY_ID).toBe('7');
    expect(lead.BIRTHDATE).toBe('1990-05-17T03:00:00+03:00');
    expect(lead.COMPANY_ID).toBe('3');
    expect(lead.IS_RETURN_CUSTOMER).toBe('Y');
    expect(lead.UF_CRM_LOYALTY_CARD).toBe('55');
    expect(lead.SECOND_NAME).toBeNull();
    expect(lead.DATE_CLOSED).toBe('');
    expect(lead.DATE_MODIFY).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
    await callJson(sb, 'crm.lead.update', { id, fields: { BIRTHDATE: '' } });
    expect(sb.lead(id)!.BIRTHDATE).toBe('');
    // Via HTTP the record is the same as the inspection view.
    const get = await callJson(sb, 'crm.lead.get', { id });
    expect(get.body.result).toEqual(sb.lead(id));
    expect('PHONE' in get.body.result).toBe(false); // empty multifields are not printed
  });

  it('records params[REGISTER_SONET_EVENT] as received and ignores options', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{}]);
    await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'a' }, params: { REGISTER_SONET_EVENT: 'N' } });
    await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'b' }, options: { REGISTER_SONET_EVENT: 'N' } });
    const [first, second] = sb.ledger();
    expect(first).toMatchObject({ seq: 1, id, method: 'crm.lead.update', params: { REGISTER_SONET_EVENT: 'N' }, via: 'direct' });
    expect(second.params).toEqual({});
    expect(second.fields).toEqual({ NAME: 'b' });
    expect(second.requestSeq).toBeGreaterThan(first.requestSeq);
  });
});
