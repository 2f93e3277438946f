import { describe, expect, it } from 'vitest';
import { RunHaltedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import { buildCatalogue, labelTexts, loadCatalogue, type PortalFieldDescription } from '../../lambda/calls/preflight.ts';
import { parsePhpQuery } from '../../harness/sandbox/query.ts';
import type { BatchResult, PortalApi } from '../../lambda/types.ts';

const std = (type: string, extra: Partial<PortalFieldDescription> = {}): PortalFieldDescription => ({
  type,
  isRequired: false,
  isReadOnly: false,
  isImmutable: false,
  isMultiple: false,
  isDynamic: false,
  title: 'x',
  ...extra,
});

/** The docs' crm.lead.fields example shape (b24restdocs crm-lead-fields.md), plus custom fields as portals print them. */
const FIELDS: Record<string, PortalFieldDescription> = {
  ID: std('integer', { isReadOnly: true, title: 'ID' }),
  TITLE: std('string', { title: 'Lead Title' }),
  HONORIFIC: std('crm_status', { statusType: 'HONORIFIC', title: 'Salutation' }),
  NAME: std('string'),
  BIRTHDATE: std('date'),
  SOURCE_ID: std('crm_status', { statusType: 'SOURCE' }),
  STATUS_ID: std('crm_status', { statusType: 'STATUS', title: 'Stage' }),
  STATUS_SEMANTIC_ID: std('string', { isReadOnly: true }),
  OPPORTUNITY: std('double'),
  CURRENCY_ID: std('crm_currency'),
  OPENED: std('char'),
  DATE_CREATE: std('datetime', { isReadOnly: true }),
  CONTACT_ID: std('crm_contact', { isDeprecated: true }),
  CONTACT_IDS: std('crm_contact', { isMultiple: true }),
  ORIGINATOR_ID: std('string', { isImmutable: true }),
  PHONE: std('crm_multifield', { isMultiple: true, title: 'Phone' }),
  EMAIL: std('crm_multifield', { isMultiple: true, title: 'E-mail' }),
  UF_CRM_1687188367: std('string', {
    isDynamic: true,
    title: 'UF_CRM_1687188367',
    listLabel: 'Subsidiary',
    formLabel: 'Subsidiary',
    filterLabel: 'Subsidiary',
    settings: { SIZE: 20 },
  }),
  UF_CRM_LEVEL: std('enumeration', {
    isDynamic: true,
    title: 'UF_CRM_LEVEL',
    listLabel: { en: 'Customer level', ru: 'Уровень клиента' },
    formLabel: { en: 'Customer level', ru: 'Уровень клиента' },
    filterLabel: { en: '', ru: null },
    items: [
      { ID: '79', VALUE: 'Gold' },
      { ID: 80, VALUE: 'Silver' },
    ],
  }),
  UF_CRM_TAGS: std('enumeration', { isDynamic: true, isMultiple: true, title: 'UF_CRM_TAGS', items: [{ ID: '90', VALUE: 'A' }] }),
  UF_CRM_LOCKED: std('string', { isDynamic: true, isReadOnly: true, title: 'UF_CRM_LOCKED', listLabel: 'Locked' }),
};

function statusList(type: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    ID: String(1000 + i),
    ENTITY_ID: type,
    STATUS_ID: i === 0 ? 'NEW' : `${type}_${i}`,
    NAME: `S${i}`,
  }));
}

/** An in-memory portal for crm.lead.fields + paged crm.status.list, reached through batch only. */
function fakePortal(statuses: Record<string, ReturnType<typeof statusList>>, fields = FIELDS, fail?: string) {
  const requests: Record<string, string>[] = [];
  const api: PortalApi = {
    async call() {
      throw new Error('preflight must use batch');
    },
    async batch(cmd): Promise<BatchResult> {
      requests.push(cmd);
      const result: Record<string, unknown> = {};
      const errors: BatchResult['errors'] = {};
      for (const [key, text] of Object.entries(cmd)) {
        const [method, query = ''] = text.split('?');
        if (method === fail) {
          errors[key] = { error: 'ACCESS_DENIED', error_description: 'Access denied.' };
        } else if (method === 'crm.lead.fields') result[key] = structuredClone(fields);
        else if (method === 'crm.status.list') {
          const p = parsePhpQuery(query);
          const type = String((p.filter as Record<string, string>).ENTITY_ID);
          const start = Number(p.start ?? 0);
          result[key] = (statuses[type] ?? []).slice(start, start + 50);
        } else if (method === 'crm.currency.list') result[key] = [{ CURRENCY: 'RUB', FULL_NAME: 'Российский рубль', BASE: 'Y' }];
        else throw new Error(`unexpected ${method}`);
      }
      return { result, errors };
    },
  };
  return { api, requests };
}

describe('loadCatalogue', () => {
  it('spends ONE request when no status list exceeds a page', async () => {
    const { api, requests } = fakePortal({
      STATUS: statusList('STATUS', 7),
      SOURCE: statusList('SOURCE', 12),
      HONORIFIC: statusList('HONORIFIC', 4),
    });
    const cat = await loadCatalogue(api, standardCatalogue());
    expect(requests).toHaveLength(1);
    expect(
      Object.values(requests[0])
        .map((c) => c.split('?')[0])
        .sort(),
    ).toEqual(['crm.currency.list', 'crm.lead.fields', 'crm.status.list', 'crm.status.list', 'crm.status.list']);
    expect(cat.fromPortal).toBe(true);
    expect(cat.fields.get('STATUS_ID')?.statusCodes).toHaveLength(7);
    expect(cat.fields.get('HONORIFIC')?.statusCodes).toEqual(['NEW', 'HONORIFIC_1', 'HONORIFIC_2', 'HONORIFIC_3']);
  });
  it('reads every page of a status list longer than 50 entries', async () => {
    const { api, requests } = fakePortal({ STATUS: statusList('STATUS', 321), SOURCE: statusList('SOURCE', 50), HONORIFIC: [] });
    const cat = await loadCatalogue(api, standardCatalogue());
    expect(cat.fields.get('STATUS_ID')?.statusCodes).toHaveLength(321);
    expect(cat.fields.get('STATUS_ID')?.statusCodes).toContain('STATUS_320');
    expect(cat.fields.get('SOURCE_ID')?.statusCodes).toHaveLength(50);
    // 1 first request; then STATUS pages 2–5 + SOURCE pages 2–5 in one, STATUS pages 6–9 in another.
    expect(requests).toHaveLength(3);
  });
  it('stops paging a status list whose portal ignores `start` (the docs list no start parameter for crm.status.list)', async () => {
    const { api, requests } = fakePortal({ STATUS: statusList('STATUS', 3), SOURCE: statusList('SOURCE', 60), HONORIFIC: [] });
    // This portal answers every page of SOURCE with the whole list, as the method's own docs describe it.
    const whole = statusList('SOURCE', 60);
    const big: PortalApi = {
      call: api.call,
      async batch(cmd) {
        const r = await api.batch(cmd);
        for (const [k, c] of Object.entries(cmd)) if (c.includes('ENTITY_ID%5D=SOURCE')) r.result[k] = whole;
        if (requests.length > 20) throw new Error('preflight keeps paging');
        return r;
      },
    };
    const cat = await loadCatalogue(big, standardCatalogue());
    expect(cat.fields.get('SOURCE_ID')?.statusCodes).toHaveLength(60);
    expect(requests.length).toBeLessThanOrEqual(3);
  });
  it('halts the run when the portal refuses crm.lead.fields or a status list', async () => {
    await expect(loadCatalogue(fakePortal({}, FIELDS, 'crm.lead.fields').api, standardCatalogue())).rejects.toBeInstanceOf(RunHaltedError);
    await expect(loadCatalogue(fakePortal({}, FIELDS, 'crm.status.list').api, standardCatalogue())).rejects.toMatchObject({
      code: 'PREFLIGHT_FAILED',
    });
  });
});

describe('buildCatalogue', () => {
  const cat = buildCatalogue(standardCatalogue(), FIELDS, new Map([['STATUS', statusList('STATUS', 3)]]));
  it('custom fields: type, multiple, labels from strings and per-language objects, enumeration items', () => {
    expect(cat.fields.get('UF_CRM_1687188367')).toEqual({ code: 'UF_CRM_1687188367', type: 'string', labels: ['Subsidiary'] });
    const level = cat.fields.get('UF_CRM_LEVEL')!;
    expect(level.type).toBe('enumeration');
    expect(level.labels).toEqual(['Customer level', 'Уровень клиента']);
    expect(level.items).toEqual([
      { ID: '79', VALUE: 'Gold' },
      { ID: '80', VALUE: 'Silver' },
    ]);
    expect(cat.fields.get('UF_CRM_TAGS')?.multiple).toBe(true);
    expect(cat.fields.get('UF_CRM_TAGS')?.labels).toBeUndefined(); // the title is the code itself
  });
  it('read-only and immutable fields are marked readOnly; writable ones are not', () => {
    for (const code of ['ID', 'STATUS_SEMANTIC_ID', 'DATE_CREATE', 'ORIGINATOR_ID', 'UF_CRM_LOCKED'])
      expect(cat.fields.get(code)?.readOnly, code).toBe(true);
    for (const code of ['TITLE', 'CONTACT_ID', 'PHONE']) expect(cat.fields.get(code)?.readOnly, code).toBeUndefined();
  });
  it('crm_status fields carry the portal codes; built-in fields the portal lacks are left out', () => {
    expect(cat.fields.get('STATUS_ID')).toMatchObject({
      type: 'crm_status',
      statusType: 'STATUS',
      statusCodes: ['NEW', 'STATUS_1', 'STATUS_2'],
    });
    expect(cat.fields.has('UTM_SOURCE')).toBe(false); // not in this portal's crm.lead.fields
    expect(cat.fields.get('PHONE')?.type).toBe('crm_multifield');
  });
  it('labelTexts handles strings, language maps and empties', () => {
    expect(labelTexts(' A ')).toEqual(['A']);
    expect(labelTexts({ en: 'A', de: '', ru: null })).toEqual(['A']);
    expect(labelTexts(null)).toEqual([]);
  });
  it('with resolveHeader: unknown UF columns and read-only ones are refused, labels accepted', () => {
    expect(() => resolveHeader(['ID', 'UF_CRM_NOPE'], { mapping: {}, catalogue: cat })).toThrow(/UF_CRM_NOPE/);
    expect(() => resolveHeader(['ID', 'UF_CRM_LOCKED'], { mapping: {}, catalogue: cat })).toThrow(/read-only/);
    expect(() => resolveHeader(['ID', 'ORIGINATOR_ID'], { mapping: {}, catalogue: cat })).toThrow(/read-only/);
    const cols = resolveHeader(['ID', 'Customer level', 'Subsidiary'], { mapping: {}, catalogue: cat });
    expect(cols.map((c) => c.code)).toEqual(['ID', 'UF_CRM_LEVEL', 'UF_CRM_1687188367']);
    expect(resolveHeader(['ID', 'Уровень клиента'], { mapping: {}, catalogue: cat })[1].code).toBe('UF_CRM_LEVEL');
  });
});
