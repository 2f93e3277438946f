/**
 * crm.duplicate.findbycomm and crm.lead.list's EMAIL/PHONE filters, as the portal's PHP runs them (sources in
 * lambda/calls/matching/resolve.ts). Plain functions over the sandbox's leads, registered by the lead store:
 *
 * - CCrmDuplicateRestProxy FINDBYCOMM: `type` upper-cased, EMAIL | PHONE only; `values` a non-empty array;
 *   `entity_type` LEAD | CONTACT | COMPANY (DEAL refused; absent or unknown: all types). Non-string and '' values
 *   are skipped, repeats (same match code; e-mails: same text) skipped, and after 20 values the loop stops: later
 *   values are ignored WITHOUT an error. Each value finds at most 20 entities (ENTITY_TYPE_ID, ENTITY_ID
 *   ascending); the answer aggregates them: `{ LEAD: [ids] }`, each ID once in the order found, or `[]` when
 *   nothing matched (PHP's empty array). The read-permission check always passes here (the webhook user may read
 *   leads), so "Access denied." is never answered.
 * - Match codes: lambda/calls/matching/duplicateCode.ts, the one port of DuplicateCommunicationCriterion's
 *   prepareCode, pinned to the PHP's outputs by its test.
 * - crm.lead.list `filter[PHONE|EMAIL|WEB|IM]`: CCrmEntityHelper::PrepareMultiFieldFilter — the plain key only, an
 *   array cut to its first element, trimmed, '' dropped (no condition), then a substring match (`%`, SQL LIKE
 *   '%v%', case-insensitive) on the stored VALUE; `v%` → starts with, `%v` → ends with, `%v%` → contains.
 */
import { type CommType, duplicateCode } from '../../lambda/calls/matching/duplicateCode.ts';
import type { LeadRecord } from '../../lambda/types.ts';
import { phpMap } from './batch.ts';
import { RestError, param, type MethodResult } from './leads.ts';
import { asList } from './query.ts';

/** CCrmOwnerType IDs of the entity types findbycomm searches. */
const ENTITY_TYPES: Record<string, number> = { LEAD: 1, DEAL: 2, CONTACT: 3, COMPANY: 4 };
const VALUES_READ = 20;
const IDS_PER_VALUE = 20;

type Index = Map<string, number[]>;

/**
 * findbycomm over a lead source. The index of match codes is rebuilt when `stamp()` changes (pass the store's
 * write count and seed count), so a batch of 50 commands reads the leads once, not 50 times.
 */
export class DuplicateSearch {
  private index?: { stamp: unknown; byType: Record<CommType, Index> };

  constructor(
    private readonly leads: () => Iterable<LeadRecord>,
    private readonly stamp: () => unknown = () => Symbol('always rebuild'),
  ) {}

  /** Runs crm.duplicate.findbycomm with its request parameters; throws RestError as the proxy does. */
  findByComm(params: Record<string, unknown>): MethodResult {
    const type = String(param(params, 'type') ?? '').toUpperCase();
    if (type !== 'EMAIL' && type !== 'PHONE') {
      throw new RestError(
        400,
        '',
        type === '' ? 'Communication type is not defined.' : `Communication type '${type}' is not supported in current context.`,
      );
    }
    const values = param(params, 'values');
    const list = typeof values === 'object' && values !== null ? (asList(values) ?? []) : [];
    if (list.length === 0) throw new RestError(400, '', 'Communication values is not defined.');
    const entityType = entityTypeOf(params);
    if (entityType === ENTITY_TYPES.DEAL) throw new RestError(400, '', 'Deal is not supported in current context.');
    const index = this.codes()[type];
    const found = new Map<string, number[]>();
    for (const code of distinctCodes(type, list)) {
      // Only leads live here: a search limited to contacts or companies finds nothing.
      if (entityType !== 0 && entityType !== ENTITY_TYPES.LEAD) continue;
      for (const id of (index.get(code) ?? []).slice(0, IDS_PER_VALUE)) {
        const ids = found.get('LEAD') ?? [];
        if (!ids.includes(id)) ids.push(id);
        found.set('LEAD', ids);
      }
    }
    return { result: phpMap(found) };
  }

  private codes(): Record<CommType, Index> {
    const stamp = this.stamp();
    if (this.index && this.index.stamp === stamp) return this.index.byType;
    const byType: Record<CommType, Index> = { EMAIL: new Map(), PHONE: new Map() };
    for (const lead of this.leads()) {
      const id = Number(lead.ID);
      for (const type of ['EMAIL', 'PHONE'] as const) {
        for (const code of new Set((lead[type] ?? []).map((e) => duplicateCode(type, String(e.VALUE ?? ''))))) {
          if (code === '') continue;
          const ids = byType[type].get(code) ?? [];
          ids.push(id);
          byType[type].set(code, ids);
        }
      }
    }
    for (const map of Object.values(byType)) for (const ids of map.values()) ids.sort((a, b) => a - b);
    this.index = { stamp, byType };
    return byType;
  }
}

/** resolveMultiPartParam(['entity', 'type']) + CCrmOwnerType::ResolveID; 0 (Undefined) when absent or unknown. */
function entityTypeOf(params: Record<string, unknown>): number {
  const raw = params.ENTITY_TYPE ?? params.entity_type ?? params.entityType;
  if (typeof raw !== 'string') return 0;
  return ENTITY_TYPES[raw.trim().toUpperCase()] ?? 0;
}

/**
 * The values the loop reaches: strings only, '' skipped, a repeat of an earlier criterion skipped (phones: same
 * code; e-mails: same text), at most 20 — each as the code searched (the text itself when it has no code).
 */
function distinctCodes(type: CommType, values: readonly unknown[]): string[] {
  const seen: string[] = [];
  const codes: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || v === '') continue;
    const identity = type === 'PHONE' ? duplicateCode(type, v) : v;
    if (seen.includes(identity)) continue;
    seen.push(identity);
    codes.push(duplicateCode(type, v) || v);
    if (codes.length >= VALUES_READ) break;
  }
  return codes;
}

/** One multifield condition of a list filter, as PrepareMultiFieldFilter leaves it in `FM`. */
export interface MultiFieldCondition {
  type: string;
  /** `%` contains, `=%` starts with, `%=` ends with (case-insensitive, as SQL LIKE under the usual collation). */
  op: '%' | '=%' | '%=';
  value: string;
}

const MULTIFIELD_FILTER_TYPES = ['PHONE', 'EMAIL', 'WEB', 'IM'];

/** Splits the multifield keys off a crm.lead.list filter the way the REST proxy does before the query runs. */
export function prepareMultiFieldFilter(filter: Record<string, unknown>): { filter: Record<string, unknown>; fm: MultiFieldCondition[] } {
  const rest: Record<string, unknown> = { ...filter };
  const fm: MultiFieldCondition[] = [];
  delete rest.FM;
  for (const type of MULTIFIELD_FILTER_TYPES) {
    if (rest[type] === undefined || rest[type] === null) continue;
    let raw = rest[type];
    delete rest[type];
    if (typeof raw === 'object') raw = (raw as Record<string, unknown>)[0] ?? '';
    const text = phpTrim(typeof raw === 'string' ? raw : String(raw ?? ''));
    if (text === '') continue;
    fm.push(condition(type, text));
  }
  return { filter: rest, fm };
}

function condition(type: string, text: string): MultiFieldCondition {
  const both = /^%([^%]+)%$/.exec(text);
  if (both) return { type, op: '%', value: both[1] };
  const tail = /^%([^%]+)$/.exec(text);
  if (tail) return { type, op: '%=', value: tail[1] };
  const head = /^([^%]+)%$/.exec(text);
  if (head) return { type, op: '=%', value: head[1] };
  return { type, op: '%', value: text };
}

/** A lead (stored or printed: multifields as entry lists) passes every condition (each an EXISTS on its type). */
export function matchesMultiFieldFilter(lead: Record<string, unknown>, fm: readonly MultiFieldCondition[]): boolean {
  return fm.every((c) =>
    (asList(lead[c.type]) ?? []).some((e) => {
      const v = String((e as { VALUE?: unknown })?.VALUE ?? '').toLowerCase();
      const w = c.value.toLowerCase();
      return c.op === '%' ? v.includes(w) : c.op === '=%' ? v.startsWith(w) : v.endsWith(w);
    }),
  );
}

function phpTrim(s: string): string {
  return s.replace(/^[ \t\n\r\0\x0B]+|[ \t\n\r\0\x0B]+$/g, '');
}
