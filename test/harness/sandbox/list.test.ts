import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callForm, callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ burst: 1000, rate: 100 });
  sb.seedLeads(
    Array.from({ length: 120 }, (_, i) => ({
      TITLE: `L${i + 1}`,
      OPPORTUNITY: (i % 7) * 100,
      PHONE: i % 2 ? [{ VALUE: `+${i}` }] : [],
      UF_CRM_LOYALTY_CARD: `C${i}`,
    })),
  );
});
afterAll(async () => sb.close());

const ids = (res: { body: { result: Array<{ ID: string }> } }) => res.body.result.map((r) => Number(r.ID));

describe('sandbox: crm.lead.list', () => {
  it('filters by an ID list, @ID, =ID and ranges', async () => {
    expect(ids(await callJson(sb, 'crm.lead.list', { filter: { ID: [5, 3, 99] } }))).toEqual([3, 5, 99]);
    expect(ids(await callForm(sb, 'crm.lead.list', 'filter[@ID][]=7&filter[@ID][]=8'))).toEqual([7, 8]);
    expect(ids(await callJson(sb, 'crm.lead.list', { filter: { '=ID': '10' } }))).toEqual([10]);
    expect(ids(await callJson(sb, 'crm.lead.list', { filter: { '>=ID': 10, '<=ID': 12 } }))).toEqual([10, 11, 12]);
    expect(ids(await callForm(sb, 'crm.lead.list', 'filter%5B%3EID%5D=117&filter%5B%3CID%5D=120'))).toEqual([118, 119]);
  });

  it('selects the default fields without multifields or user fields; "*", "UF_*" and named multifields', async () => {
    const def = await callJson(sb, 'crm.lead.list', { filter: { ID: 2 } });
    const row = def.body.result[0];
    expect(row.TITLE).toBe('L2');
    expect(row.OPPORTUNITY).toBe('100.00');
    expect('PHONE' in row).toBe(false);
    expect('UF_CRM_LOYALTY_CARD' in row).toBe(false);
    const star = await callJson(sb, 'crm.lead.list', { filter: { ID: 2 }, select: ['*'] });
    expect(Object.keys(star.body.result[0])).toEqual(Object.keys(row));
    const uf = await callJson(sb, 'crm.lead.list', { filter: { ID: 2 }, select: ['ID', 'UF_*'] });
    expect(uf.body.result[0]).toEqual({ ID: '2', UF_CRM_LOYALTY_CARD: 'C1', UF_CRM_SEGMENT: null });
    const phone = await callJson(sb, 'crm.lead.list', { filter: { ID: 2 }, select: ['ID', 'PHONE', 'EMAIL'] });
    expect(phone.body.result[0].PHONE).toEqual([{ ID: expect.any(String), VALUE_TYPE: 'WORK', VALUE: '+1', TYPE_ID: 'PHONE' }]);
    expect(Object.keys(phone.body.result[0])).toEqual(['ID', 'PHONE']);
  });

  it('pages by 50 with start, next and total', async () => {
    const p1 = await callJson(sb, 'crm.lead.list', { select: ['ID'] });
    expect(p1.body.result).toHaveLength(50);
    expect(p1.body.next).toBe(50);
    expect(p1.body.total).toBe(120);
    const p3 = await callJson(sb, 'crm.lead.list', { select: ['ID'], start: 100 });
    expect(ids(p3)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
    expect('next' in p3.body).toBe(false);
    expect(p3.body.total).toBe(120);
    const noCount = await callJson(sb, 'crm.lead.list', { select: ['ID'], start: -1 });
    expect(noCount.body.result).toHaveLength(50);
    expect('total' in noCount.body).toBe(false);
  });

  it('orders by any field, both ways', async () => {
    const desc = await callJson(sb, 'crm.lead.list', { select: ['ID'], order: { ID: 'DESC' }, filter: { '<=ID': 4 } });
    expect(ids(desc)).toEqual([4, 3, 2, 1]);
    const byAmount = await callJson(sb, 'crm.lead.list', {
      select: ['ID', 'OPPORTUNITY'],
      order: { OPPORTUNITY: 'desc' },
      filter: { '<=ID': 8 },
    });
    expect(ids(byAmount)).toEqual([7, 6, 5, 4, 3, 2, 1, 8]);
  });
});

describe('sandbox: crm.lead.fields and crm.status.list', () => {
  it('describes fields in the real shape, with statusType and user fields', async () => {
    const res = await callJson(sb, 'crm.lead.fields');
    const f = res.body.result;
    expect(f.TITLE).toEqual({
      type: 'string',
      isRequired: true,
      isReadOnly: false,
      isImmutable: false,
      isMultiple: false,
      isDynamic: false,
      title: 'Lead Title',
    });
    expect(f.STATUS_ID).toMatchObject({ type: 'crm_status', statusType: 'STATUS' });
    expect(f.SOURCE_ID.statusType).toBe('SOURCE');
    expect(f.HONORIFIC.statusType).toBe('HONORIFIC');
    expect(f.DATE_CREATE.isReadOnly).toBe(true);
    expect(f.PHONE).toMatchObject({ type: 'crm_multifield', isMultiple: true });
    expect(f.UF_CRM_LOYALTY_CARD).toMatchObject({
      type: 'string',
      isDynamic: true,
      title: 'UF_CRM_LOYALTY_CARD',
      listLabel: 'Loyalty card',
      formLabel: 'Loyalty card',
      filterLabel: 'Loyalty card',
    });
    expect(f.UF_CRM_SEGMENT.type).toBe('enumeration');
    expect(f.UF_CRM_SEGMENT.items.map((i: { VALUE: string }) => i.VALUE)).toEqual(['Retail', 'Wholesale', 'Partner']);
    expect(f.UF_CRM_SEGMENT.items[0]).toEqual({ ID: expect.stringMatching(/^\d+$/), VALUE: 'Retail' });
  });

  it('takes configured user fields, and enumeration writes store the item ID', async () => {
    const own = await startSandbox({
      userFields: [
        {
          code: 'UF_CRM_TIER',
          type: 'enumeration',
          label: 'Tier',
          items: [
            { ID: 71, VALUE: 'Gold' },
            { ID: 72, VALUE: 'Silver' },
          ],
        },
      ],
    });
    try {
      const fields = (await callJson(own, 'crm.lead.fields')).body.result;
      expect(fields.UF_CRM_TIER.items).toEqual([
        { ID: '71', VALUE: 'Gold' },
        { ID: '72', VALUE: 'Silver' },
      ]);
      expect('UF_CRM_SEGMENT' in fields).toBe(false);
      const [id] = own.seedLeads([{}]);
      await callJson(own, 'crm.lead.update', { id, fields: { UF_CRM_TIER: 72 } });
      expect(own.lead(id)!.UF_CRM_TIER).toBe('72');
    } finally {
      await own.close();
    }
  });

  it('lists statuses by ENTITY_ID with the default codes and configured stages', async () => {
    const stages = await callJson(sb, 'crm.status.list', { filter: { ENTITY_ID: 'STATUS' } });
    expect(stages.body.result.map((s: { STATUS_ID: string }) => s.STATUS_ID)).toEqual([
      'NEW',
      'IN_PROCESS',
      'PROCESSED',
      'CONVERTED',
      'JUNK',
    ]);
    expect(stages.body.result[0]).toMatchObject({ ENTITY_ID: 'STATUS', STATUS_ID: 'NEW', NAME: expect.any(String), SORT: '10' });
    const sources = await callForm(sb, 'crm.status.list', 'filter[ENTITY_ID]=SOURCE');
    expect(sources.body.result.map((s: { STATUS_ID: string }) => s.STATUS_ID)).toContain('WEBFORM');
    const hon = await callJson(sb, 'crm.status.list', { filter: { ENTITY_ID: 'HONORIFIC' } });
    expect(hon.body.result.map((s: { STATUS_ID: string }) => s.STATUS_ID)).toEqual(['HNR_EN_1', 'HNR_EN_2', 'HNR_EN_3', 'HNR_EN_4']);
    const manySources = Array.from({ length: 60 }, (_, i) => ({ STATUS_ID: `SRC_${i}`, NAME: `Source ${i}` }));
    const custom = await startSandbox({ statuses: { STATUS: [{ STATUS_ID: 'UC_QUALIFY', NAME: 'Qualify' }], SOURCE: manySources } });
    try {
      const res = await callJson(custom, 'crm.status.list', { filter: { ENTITY_ID: 'STATUS' } });
      expect(res.body.result.map((s: { STATUS_ID: string }) => s.STATUS_ID)).toEqual([
        'NEW',
        'IN_PROCESS',
        'PROCESSED',
        'UC_QUALIFY',
        'CONVERTED',
        'JUNK',
      ]);
      expect(res.body.total).toBe(6);
      // Pages of 50, like every list method.
      const p1 = await callJson(custom, 'crm.status.list', { filter: { ENTITY_ID: 'SOURCE' }, order: { ID: 'ASC' } });
      expect(p1.body.result).toHaveLength(50);
      expect(p1.body.next).toBe(50);
      expect(p1.body.total).toBe(72);
      const p2 = await callJson(custom, 'crm.status.list', { filter: { ENTITY_ID: 'SOURCE' }, order: { ID: 'ASC' }, start: 50 });
      expect(p2.body.result.at(-1).STATUS_ID).toBe('SRC_59');
      expect('next' in p2.body).toBe(false);
    } finally {
      await custom.close();
    }
  });
});
