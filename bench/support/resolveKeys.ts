import { rowKey, type MatchKey } from '../../lambda/calls/matching/keys.ts';
import { resolveKeys } from '../../lambda/calls/matching/resolve.ts';
import { fakePortal, requestsByMethod } from '../../test/calls/matching/fakePortal.ts';

export interface ResolveFigures {
  keys: number;
  /** findbycomm requests: the resolution proper. */
  searchRequests: number;
  /** crm.lead.list requests reading the candidates: the diff's own read of those leads, done once, here. */
  readRequests: number;
  /** Most values in one findbycomm command, most commands in one request. */
  maxValues: number;
  maxCommands: number;
  matched: number;
  ambiguous: number;
  none: number;
  ms: number;
}

/**
 * Seeds the bench's leads through `seed` (it returns their IDs): key i is `user<i>@example.com`, held by one lead
 * (written in another case), by two (i % 20 = 18) or by none (i % 20 = 19). Returns the keys and, per key, the
 * ID of its first holder (0 for none).
 */
export function matchLeads(n: number, seed: (leads: Record<string, unknown>[]) => number[]): { keys: string[]; firstHolder: number[] } {
  const leads: Record<string, unknown>[] = [];
  const first: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 20 === 19) {
      first.push(-1); // no lead
      continue;
    }
    first.push(leads.length);
    leads.push({ TITLE: `old title ${i}`, EMAIL: [{ VALUE: `User${i}@Example.com`, VALUE_TYPE: 'WORK' }] });
    if (i % 20 === 18) leads.push({ TITLE: `twin ${i}`, EMAIL: [{ VALUE: `user${i}@example.com`, VALUE_TYPE: 'HOME' }] }); // a duplicate lead
  }
  const ids = seed(leads);
  return { keys: Array.from({ length: n }, (_, i) => `user${i}@example.com`), firstHolder: first.map((j) => (j < 0 ? 0 : ids[j])) };
}

/**
 * Resolves `n` e-mail keys against a portal where 90 % have one lead, 5 % two, 5 % none, counting requests on a
 * fake PortalApi (the sandbox's lead store and findbycomm, in process). For `npm run bench`: print the figures.
 */
export async function resolveBench(n = 10_000): Promise<ResolveFigures> {
  const fake = fakePortal();
  const { keys: cells } = matchLeads(n, (leads) => fake.store.seed(leads));
  const keys: MatchKey[] = [];
  for (const cell of cells) {
    const k = rowKey({ kind: 'EMAIL' }, 'EMAIL', [cell]);
    if (k.ok) keys.push(k.key);
  }
  const t0 = performance.now();
  const r = await resolveKeys(fake, { kind: 'EMAIL' }, keys, { deadline: Date.now() + 3_600_000, select: ['NAME'] });
  const ms = performance.now() - t0;
  const by = requestsByMethod(fake);
  const search = fake.requests.filter((q) => q.commands[0]?.startsWith('crm.duplicate.findbycomm'));
  const values = search.flatMap((q) => q.commands.map((c) => (c.match(/values%5B\d+%5D=/g) ?? []).length));
  const ids = [...r.keys.values()].map((k) => k.ids.length);
  return {
    keys: keys.length,
    searchRequests: by['crm.duplicate.findbycomm'] ?? 0,
    readRequests: by['crm.lead.list'] ?? 0,
    maxValues: Math.max(...values),
    maxCommands: Math.max(...fake.requests.map((q) => q.commands.length)),
    matched: ids.filter((x) => x === 1).length,
    ambiguous: ids.filter((x) => x > 1).length,
    none: ids.filter((x) => x === 0).length,
    ms,
  };
}
