import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../lambda/calls/preflight.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { catalogueCall, DEFAULT_CURRENCIES, DEFAULT_USERS } from '../../harness/sandbox/catalogue.ts';
import { parsePhpQuery } from '../../harness/sandbox/query.ts';
import type { BatchResult, PortalApi } from '../../lambda/types.ts';

const FIELDS = {
  ID: { type: 'integer', isReadOnly: true, title: 'ID' },
  STATUS_ID: { type: 'crm_status', statusType: 'STATUS', title: 'Стадия' },
  CURRENCY_ID: { type: 'crm_currency', title: 'Валюта' },
  ASSIGNED_BY_ID: { type: 'user', title: 'Ответственный' },
};

/** A portal answering through batch only: lead fields, status lists, and the catalogue methods as the sandbox does. */
function portal(users = DEFAULT_USERS, refuse: string[] = []) {
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
        const params = parsePhpQuery(query) as Record<string, unknown>;
        if (refuse.includes(method)) errors[key] = { error: 'insufficient_scope', error_description: 'no scope' };
        else if (method === 'crm.lead.fields') result[key] = FIELDS;
        else if (method === 'crm.status.list') {
          const type = (params.filter as Record<string, string>).ENTITY_ID;
          result[key] = type === 'STATUS' ? [{ ENTITY_ID: 'STATUS', STATUS_ID: 'NEW', NAME: 'Не обработан' }] : [];
        } else result[key] = catalogueCall(method, params, { currencies: DEFAULT_CURRENCIES, users })?.result;
      }
      return { result, errors };
    },
  };
  return { api, requests };
}

describe('item 10: the preflight loads what names map through', () => {
  it('status names and the currency list ride in the ONE preflight batch', async () => {
    const { api, requests } = portal();
    const cat = await loadCatalogue(api, standardCatalogue());
    expect(requests).toHaveLength(1);
    expect(Object.values(requests[0]).some((c) => c.startsWith('crm.currency.list'))).toBe(true);
    expect(Object.values(requests[0]).some((c) => c.startsWith('user.get'))).toBe(false);
    expect(cat.fields.get('STATUS_ID')?.statusNames).toEqual({ NEW: 'Не обработан' });
    expect(cat.fields.get('CURRENCY_ID')?.currencies).toMatchObject({ RUB: 'Российский рубль', USD: 'Доллар США' });
  });

  it('a portal that refuses crm.currency.list still opens: currencies are then checked as codes only', async () => {
    const { api } = portal(DEFAULT_USERS, ['crm.currency.list']);
    const cat = await loadCatalogue(api, standardCatalogue());
    expect(cat.fields.get('CURRENCY_ID')?.currencies).toBeUndefined();
  });

  it('users only when asked: the first page in the same batch, active users only', async () => {
    const { api, requests } = portal();
    const cat = await loadCatalogue(api, standardCatalogue(), { users: true });
    expect(requests).toHaveLength(1);
    expect(cat.fields.get('ASSIGNED_BY_ID')?.users?.map((u) => u.ID)).toEqual(['1', '5', '7', '9', '12']);
  });

  it('120 users: two pages more, in one further request', async () => {
    const many = Array.from({ length: 120 }, (_, i) => ({ ...DEFAULT_USERS[1], ID: String(i + 1), EMAIL: `u${i}@example.com` }));
    const { api, requests } = portal(many);
    const cat = await loadCatalogue(api, standardCatalogue(), { users: true });
    expect(cat.fields.get('ASSIGNED_BY_ID')?.users).toHaveLength(120);
    expect(requests).toHaveLength(2);
  });

  it('a webhook without the user scope: no user list (names are then refused), the run goes on', async () => {
    const { api } = portal(DEFAULT_USERS, ['user.get']);
    const cat = await loadCatalogue(api, standardCatalogue(), { users: true });
    expect(cat.fields.get('ASSIGNED_BY_ID')?.users).toBeUndefined();
  });
});
