/**
 * Key → lead resolution for `--match EMAIL | PHONE | UF_CRM_…`, in bulk.
 *
 * What the server does (read in public mirrors of Bitrix24's PHP; docs where they agree):
 * - crm.duplicate.findbycomm = CCrmDuplicateRestProxy::processMethodRequest (crm/classes/general/restservice.php):
 *   `type` upper-cased, only EMAIL | PHONE ("Communication type is not defined." / "Communication type 'X' is not
 *   supported in current context."); `values` must be a non-empty array ("Communication values is not defined.");
 *   `entity_type` via CCrmOwnerType::ResolveID (LEAD, CONTACT, COMPANY; DEAL → "Deal is not supported in current
 *   context."; absent → all three). Each value: non-strings and '' skipped, repeats (same code) skipped, then
 *   `DuplicateCommunicationCriterion::find($entityTypeID, 20)`; after 20 values the loop BREAKS: values 21+ are
 *   ignored without an error (the docs' "maximum 20" is this silent cut). The answer aggregates over all values:
 *   `{ "LEAD": [ids] }` (ints, each once, in the order found), and a PHP empty array, JSON `[]`, when nothing
 *   matched. Not per value: attributing IDs to keys needs a read of the candidates.
 * - find() (crm/lib/integrity/duplicatecommunicationcriterion.php) reads the match-code table with `=TYPE`,
 *   `=VALUE` = prepareCode(value), ordered by ENTITY_TYPE_ID, ENTITY_ID ascending, LIMIT 20 per value (over all
 *   entity types: the docs' "with 20 or more in leads, contacts are not returned"). Codes: duplicateCode.ts
 *   (PHONE: main/tools.php NormalizePhone($v, 1), then `;`/`#` extensions dropped; EMAIL: trim + mb_strtolower).
 * - crm.lead.list `filter[EMAIL|PHONE]` (CCrmRestProxyBase::internalizeFilterFields →
 *   CCrmEntityHelper::PrepareMultiFieldFilter, crm/classes/general/crm_entity_helper.php): only the plain key
 *   `EMAIL`/`PHONE` is understood, an array value is cut to its FIRST element, the value is trimmed and compared
 *   with `%` = SQL LIKE '%v%' on the raw stored VALUE (`v%` / `%v` for a value ending / starting with `%`). So it is
 *   a substring search over unnormalised text: `ann@x.com` also finds `joann@x.com`, `+7 912…` never finds
 *   `8 912…`, and one command tests one value. Hence findbycomm for e-mails and phones.
 * - crm.lead.list `filter[=UF_CRM_X]`: `=` is SQL equality (case-insensitive under the usual collation); one value
 *   per command; page size 50. The candidates are checked here with the diff's normaliseScalar.
 * Sources: alex-jazzman/bitrix24_source bitrix/modules/main/tools.php (NormalizePhone); LiberBear/PORTAL_CORE
 * bitrix/modules/crm/lib/integrity/duplicatecommunicationcriterion.php (older) and a newer mirror of the same file
 * (CommunicationType, the extension strip); a mirror of crm/classes/general/restservice.php (CCrmDuplicateRestProxy,
 * internalizeFilterFields); bitrix24/b24restdocs api-reference/crm/duplicates/crm-duplicate-find-by-comm.md (answer
 * `{"CONTACT":[275,2297]}`, integer IDs). leshchenko1979/fast_bitrix24 tests/real_responses records no findbycomm.
 *
 * Cost: one `batch` of 50 findbycomm commands × 20 values resolves 1,000 e-mail or phone keys; the candidates are
 * then read with crm.lead.list `@ID` (diff.ts listCommands: 2,500 leads a request), selecting EMAIL/PHONE plus
 * what the caller's diff needs, so the read doubles as the diff's read (`leads` in the result). Custom fields: one
 * crm.lead.list command per key, 50 keys a request.
 */
import { DeferredError } from '../../errors.ts';
import type { LeadRecord, PortalApi, PortalErrorBody } from '../../types.ts';
import { DEFERRED } from '../../types.ts';
import { command } from '../encode.ts';
import { COMMANDS_PER_BATCH, IDS_PER_COMMAND, listCommands, type ReadFailure } from '../planning/diff.ts';
import { normaliseScalar } from '../planning/normalise.ts';
import { type CommType, duplicateCode } from './duplicateCode.ts';
import type { MatchKey, MatchSpec } from './keys.ts';

/** Values the server reads per findbycomm command; later ones it ignores silently. */
export const VALUES_PER_COMMAND = 20;
/** IDs findbycomm returns per value at most (find($entityTypeID, 20)). */
export const IDS_PER_VALUE = 20;

export interface ResolveOptions {
  /** Local ms: a group not started before it is DEFERRED; limit waits past it reject as DeferredError (deferred here). */
  deadline: number;
  now?: () => number;
  /** Fields the caller's diff reads: selected with the candidates so the diff need not read them again. */
  select?: readonly string[];
}

/** What the portal holds for one key. `ids` ascending; several → ambiguous. `failure`: could not tell. */
export interface KeyResolution {
  ids: number[];
  failure?: ReadFailure;
}

export interface Resolved {
  /** By MatchKey.key, one entry per distinct key given. */
  keys: Map<string, KeyResolution>;
  /** Every lead read to attribute or check the keys, by ID, with EMAIL/PHONE (or the field) and `select`. */
  leads: Map<number, LeadRecord>;
}

/**
 * Resolves keys to lead IDs in bulk. Per-command errors (`result_error`) fail that command's keys only; a batch
 * that rejects with DeferredError defers its keys and every later one; any other rejection (run-level) rejects.
 *
 * @example const { keys, leads } = await resolveKeys(api, { kind: 'EMAIL' }, [{ key: 'a@x.com', value: 'A@x.com' }], { deadline });
 * keys.get('a@x.com') // → { ids: [42] }
 */
export async function resolveKeys(portal: PortalApi, match: MatchSpec, keys: readonly MatchKey[], opts: ResolveOptions): Promise<Resolved> {
  const unique = [...new Map(keys.map((k) => [k.key, k])).values()];
  const out: Resolved = { keys: new Map(), leads: new Map() };
  if (match.kind === 'UF') {
    await inGroups(unique, COMMANDS_PER_BATCH, opts, out, (group) => resolveFieldGroup(portal, match, group, opts, out));
    return out;
  }
  // Every search first, then one read of all candidates (2,500 a request): 10,000 keys cost 10 searches + 4 reads.
  const found: Found[] = [];
  const perRequest = VALUES_PER_COMMAND * COMMANDS_PER_BATCH;
  await inGroups(unique, perRequest, opts, out, async (group) => {
    found.push(...(await searchGroup(portal, match.kind, group, opts, out)));
  });
  const wanted = [...new Set(found.flatMap((f) => f.ids))];
  const unread = await readCandidates(portal, wanted, [match.kind, ...(opts.select ?? [])], opts, out);
  for (const f of found) attribute(match.kind, f.keys, f.ids, unread, out);
  return out;
}

/**
 * Runs `step` on groups of `size` keys, one request each. A group not started before the deadline (but the first)
 * is DEFERRED; a step that rejects with DeferredError defers its group and every later one.
 */
async function inGroups(
  keys: readonly MatchKey[],
  size: number,
  opts: ResolveOptions,
  out: Resolved,
  step: (group: readonly MatchKey[]) => Promise<void>,
): Promise<void> {
  const now = opts.now ?? Date.now;
  for (let start = 0; start < keys.length; start += size) {
    if (start > 0 && now() >= opts.deadline) {
      deferAll(keys.slice(start), out);
      return;
    }
    try {
      await step(keys.slice(start, start + size));
    } catch (e) {
      if (!(e instanceof DeferredError)) throw e;
      deferAll(keys.slice(start), out);
      return;
    }
  }
}

const DEFERRED_FAILURE: ReadFailure = { status: 'skipped', errorCode: DEFERRED, message: 'deferred to the next chunk' };

function deferAll(keys: readonly MatchKey[], out: Resolved): void {
  for (const k of keys) if (!out.keys.has(k.key)) out.keys.set(k.key, { ids: [], failure: DEFERRED_FAILURE });
}

function failed(error: PortalErrorBody | undefined, what: string): ReadFailure {
  if (!error) return { status: 'failed', errorCode: 'READ_FAILED', message: `the portal did not run the ${what}` };
  return {
    status: 'failed',
    errorCode: error.error || 'READ_FAILED',
    message: `${what} failed: ${error.error_description || error.error || 'unknown error'}`,
  };
}

/** One findbycomm command's keys and the lead IDs it answered. */
interface Found {
  keys: MatchKey[];
  ids: number[];
}

/** One request of ≤ 50 findbycomm commands × 20 values; failed commands fail their keys here. */
async function searchGroup(
  portal: PortalApi,
  type: CommType,
  group: readonly MatchKey[],
  opts: ResolveOptions,
  out: Resolved,
): Promise<Found[]> {
  const commands = chunk(group, VALUES_PER_COMMAND);
  const cmd: Record<string, string> = {};
  for (const [i, keys] of commands.entries()) {
    cmd[`d${i}`] = command('crm.duplicate.findbycomm', { entity_type: 'LEAD', type, values: keys.map((k) => k.value) });
  }
  const { result, errors } = await portal.batch(cmd, { halt: false, deadline: opts.deadline });
  const found: Found[] = [];
  for (const [i, keys] of commands.entries()) {
    const key = `d${i}`;
    if (errors[key] || !(key in result)) {
      for (const k of keys) out.keys.set(k.key, { ids: [], failure: failed(errors[key], 'the duplicate search') });
      continue;
    }
    found.push({ keys, ids: leadIds(result[key]) });
  }
  return found;
}

/** findbycomm's answer → its LEAD IDs: `[]` (nothing), `{ LEAD: [..] }`, or a PHP map keyed 0,1,… */
export function leadIds(answer: unknown): number[] {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return [];
  const ids = asArray((answer as Record<string, unknown>).LEAD).map(Number);
  return [...new Set(ids.filter((id) => Number.isInteger(id) && id > 0))];
}

/**
 * Reads candidate leads by ID (2,500 a request). Returns the IDs whose read failed or was deferred, with why,
 * so the keys that depend on them are not decided on a partial view. As the diff's readLeads, the first group
 * always goes (the client's deadline still bounds its waits); later ones not past the deadline.
 */
async function readCandidates(
  portal: PortalApi,
  ids: readonly number[],
  select: readonly string[],
  opts: ResolveOptions,
  out: Resolved,
): Promise<Map<number, ReadFailure>> {
  const unread = new Map<number, ReadFailure>();
  const fields = [...new Set(['ID', ...select])];
  const perRequest = IDS_PER_COMMAND * COMMANDS_PER_BATCH;
  const now = opts.now ?? Date.now;
  for (let start = 0; start < ids.length; start += perRequest) {
    const group = ids.slice(start, start + perRequest);
    if (start > 0 && now() >= opts.deadline) {
      for (const id of group) unread.set(id, DEFERRED_FAILURE);
      continue;
    }
    const cmd = listCommands(group, fields);
    let answer: Awaited<ReturnType<PortalApi['batch']>>;
    try {
      answer = await portal.batch(cmd, { halt: false, deadline: opts.deadline });
    } catch (e) {
      if (!(e instanceof DeferredError)) throw e;
      for (const id of ids.slice(start)) unread.set(id, DEFERRED_FAILURE);
      break;
    }
    const { result, errors } = answer;
    for (const [i, key] of Object.keys(cmd).entries()) {
      const chunkIds = group.slice(i * IDS_PER_COMMAND, (i + 1) * IDS_PER_COMMAND);
      if (errors[key] || !(key in result)) {
        for (const id of chunkIds) unread.set(id, failed(errors[key], 'reading the candidate lead'));
        continue;
      }
      for (const lead of asArray(result[key]) as LeadRecord[]) {
        const id = Number(lead?.ID);
        if (chunkIds.includes(id)) out.leads.set(id, lead);
      }
    }
  }
  return unread;
}

/**
 * The command's candidates → its keys: a lead belongs to a key when one of its entries has the key's code (the
 * portal's own test, so grouping never changes the answer). A candidate the read did not return (deleted, not
 * visible) holds nothing; one whose read failed leaves the command's keys undecided.
 */
function attribute(
  type: CommType,
  keys: readonly MatchKey[],
  ids: readonly number[],
  unread: ReadonlyMap<number, ReadFailure>,
  out: Resolved,
): void {
  const blocked = ids.map((id) => unread.get(id)).find((f) => f !== undefined);
  const held = new Map<number, Set<string>>();
  for (const id of ids) {
    const lead = out.leads.get(id);
    if (lead) held.set(id, new Set(asArray(lead[type]).map((e) => duplicateCode(type, String((e as { VALUE?: unknown })?.VALUE ?? '')))));
  }
  for (const k of keys) {
    if (blocked) {
      out.keys.set(k.key, { ids: [], failure: blocked });
      continue;
    }
    const mine = ids.filter((id) => held.get(id)?.has(k.key)).sort((a, b) => a - b);
    out.keys.set(k.key, { ids: mine });
  }
}

/** Custom field: one crm.lead.list command per key (`=CODE`), 50 a request, candidates checked with normaliseScalar. */
async function resolveFieldGroup(
  portal: PortalApi,
  match: Extract<MatchSpec, { kind: 'UF' }>,
  group: readonly MatchKey[],
  opts: ResolveOptions,
  out: Resolved,
): Promise<void> {
  const select = [...new Set(['ID', match.code, ...(opts.select ?? [])])];
  const cmd: Record<string, string> = {};
  for (const [i, k] of group.entries()) {
    cmd[`u${i}`] = command('crm.lead.list', { filter: { [`=${match.code}`]: k.value }, order: { ID: 'ASC' }, select });
  }
  const { result, errors } = await portal.batch(cmd, { halt: false, deadline: opts.deadline });
  for (const [i, k] of group.entries()) {
    const key = `u${i}`;
    if (errors[key] || !(key in result)) {
      out.keys.set(k.key, { ids: [], failure: failed(errors[key], 'the search by field') });
      continue;
    }
    const ids: number[] = [];
    for (const lead of asArray(result[key]) as LeadRecord[]) {
      const id = Number(lead?.ID);
      if (!Number.isInteger(id) || id <= 0) continue;
      out.leads.set(id, lead);
      if (holds(match.spec.type, lead[match.code], k.key)) ids.push(id);
    }
    out.keys.set(k.key, { ids: ids.sort((a, b) => a - b) });
  }
}

/** The lead's stored value (one, or a multiple field's list) holds the key, by the diff's normalisation. */
function holds(type: string, stored: unknown, key: string): boolean {
  const values = stored !== null && typeof stored === 'object' ? asArray(stored) : [stored];
  return values.some((v) => normaliseScalar(type, v) === key);
}

function chunk<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** A list result may come back as a JSON list or a PHP-style map keyed 0,1,… */
function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}
