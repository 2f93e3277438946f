import { DeferredError } from '../../../lambda/errors.ts';
import type { BatchResult, PortalApi } from '../../../lambda/types.ts';
import { DEFAULT_USER_FIELDS, type UserFieldOption } from '../../../harness/sandbox/catalogue.ts';
import { DuplicateSearch } from '../../../harness/sandbox/duplicates.ts';
import { LeadStore, RestError } from '../../../harness/sandbox/leads.ts';
import { parsePhpQuery } from '../../../harness/sandbox/query.ts';

/**
 * A PortalApi that runs batch commands against the sandbox's lead store and its findbycomm, in process, and
 * counts what reaches it. `fail` turns chosen commands into result_error answers; `deferAt` makes the n-th
 * batch (0-based) reject as the client does past a deadline.
 */
export interface FakePortal extends PortalApi {
  store: LeadStore;
  requests: { method: string; commands: string[] }[];
  fail?: (method: string, params: Record<string, unknown>) => { error: string; error_description: string } | undefined;
  deferAt?: number;
}

export function fakePortal(userFields: UserFieldOption[] = DEFAULT_USER_FIELDS): FakePortal {
  const store = new LeadStore({ userId: 1, userFields, tzOffset: 180, now: () => 0 });
  let seeds = 0;
  const seed = store.seed.bind(store);
  store.seed = (leads) => {
    seeds++;
    return seed(leads);
  };
  const search = new DuplicateSearch(
    () => store.all(),
    () => `${store.writes()}:${seeds}`,
  );
  const fake: FakePortal = {
    store,
    requests: [],
    async call() {
      throw new Error('resolveKeys makes batch calls only');
    },
    async batch(cmd: Record<string, string>): Promise<BatchResult> {
      const n = fake.requests.length;
      fake.requests.push({ method: 'batch', commands: Object.values(cmd) });
      if (fake.deferAt !== undefined && n >= fake.deferAt) throw new DeferredError('not started before the deadline');
      if (Object.keys(cmd).length > 50) throw new Error(`a batch of ${Object.keys(cmd).length} commands`);
      const out: BatchResult = { result: {}, errors: {} };
      for (const [key, text] of Object.entries(cmd)) {
        const cut = text.indexOf('?');
        const method = cut < 0 ? text : text.slice(0, cut);
        const params = parsePhpQuery(cut < 0 ? '' : text.slice(cut + 1));
        const injected = fake.fail?.(method, params);
        if (injected) {
          out.errors[key] = injected;
          continue;
        }
        try {
          out.result[key] =
            method === 'crm.duplicate.findbycomm'
              ? search.findByComm(params).result
              : store.call(method, params, { via: 'batch', requestSeq: n + 1 }).result;
        } catch (e) {
          if (!(e instanceof RestError)) throw e;
          out.errors[key] = { error: e.error, error_description: e.description };
        }
      }
      return out;
    },
  };
  return fake;
}

/** Commands of each request by method: { 'crm.duplicate.findbycomm': 10, 'crm.lead.list': 4 } counts requests. */
export function requestsByMethod(fake: FakePortal): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of fake.requests) {
    const method = r.commands[0]?.split('?')[0] ?? 'batch';
    out[method] = (out[method] ?? 0) + 1;
  }
  return out;
}
