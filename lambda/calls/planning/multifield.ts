import { DEFAULT_VALUE_TYPE, isMultifieldType } from '../../payloads/fields.ts';
import { isOpenChannelEntry } from '../../payloads/openChannel.ts';
import type { MultifieldValue, PortalMultifield } from '../../types.ts';
import { normaliseMulti } from './normalise.ts';

/**
 * Idempotent multifields (PHONE, EMAIL, WEB, IM, LINK). crm.lead.update appends every entry sent without
 * an ID, so a replayed row would add copies. Here the lead's current entries and the row's values are
 * compared after normalisation (normaliseMulti) and only the difference is written:
 *
 * merge (default): a row value already on the lead (under any VALUE_TYPE of that multifield) is not sent;
 *   a new value is added as { VALUE, VALUE_TYPE }. Nothing is deleted except what `clears` names.
 * replace: when the row gives any value of a type (PHONE, EMAIL…), the lead ends with exactly the row's
 *   values of that type, whatever their VALUE_TYPEs (a row with only PHONE_MOBILE leaves the lead with that
 *   mobile phone and no other phone); a row with no value of the type leaves it alone. Matching entries are kept (rewritten as
 *   { ID, VALUE, VALUE_TYPE } when the text differs, e.g. "http://a.com" for "a.com"; never for a phone's
 *   formatting, which a portal may impose itself), the rest, duplicates included, are deleted with
 *   { ID, DELETE: 'Y' }. A row value found on the lead under a VALUE_TYPE outside
 *   the scope is moved ({ ID, VALUE, VALUE_TYPE }) rather than added again.
 * clears ("PHONE:MOBILE" from the clear marker; "PHONE" alone = every VALUE_TYPE): every entry of that
 *   type is deleted by ID, in both modes.
 *
 * Open Channel bindings (IM OPENLINE/IMOL entries, `imol|…` values, every LINK entry) are out of scope in
 * every mode: never deleted, rewritten or moved, and never "the row's value already there" (openChannel.ts).
 * Values compare and travel trimmed, as the portal stores them; every update by ID carries its VALUE_TYPE
 * (without one the portal resets the type to the default).
 *
 * Replaying the same row against the result plans no operation.
 */

export type MultifieldMode = 'merge' | 'replace';

export type MultiOp =
  | { kind: 'add'; VALUE: string; VALUE_TYPE: string }
  | { kind: 'update'; ID: string; VALUE: string; VALUE_TYPE: string }
  | { kind: 'delete'; ID: string; VALUE_TYPE: string };

/** A wanted value: what the row's columns ask for under one multifield type. */
interface Wanted {
  value: string;
  valueType: string;
  key: string;
}

/**
 * The operations that bring `current` (the lead's entries of one multifield type) to what the row asks.
 * `values` are the row's entries for that type; `clears` the VALUE_TYPEs to empty ('*' = all); `phoneCountry` the
 * default country phones are read in (phoneKey.ts).
 *
 * @example planMultifield('PHONE', [{ ID: '7', VALUE_TYPE: 'WORK', VALUE: '+1 555 0100', TYPE_ID: 'PHONE' }],
 *   [{ VALUE: '15550100', VALUE_TYPE: 'WORK' }], [], 'merge') // → [] (already there)
 */
export function planMultifield(
  type: string,
  current: readonly PortalMultifield[],
  values: readonly MultifieldValue[],
  clears: readonly string[],
  mode: MultifieldMode,
  phoneCountry?: string,
): MultiOp[] {
  const wanted = uniqueWanted(type, values, phoneCountry);
  // Bindings are system data: left out entirely, so nothing below can delete, rewrite or match them.
  const entries = current
    .filter((e) => !isOpenChannelEntry(type, e))
    .map((e) => ({
      ID: String(e.ID),
      VALUE: String(e.VALUE ?? '').trim(),
      VALUE_TYPE: String(e.VALUE_TYPE ?? '').toUpperCase(),
      key: normaliseMulti(type, String(e.VALUE ?? ''), phoneCountry),
    }));
  const clearAll = clears.includes('*');
  const cleared = (vt: string) => clearAll || clears.includes(vt);
  const ops: MultiOp[] = [];
  const claimed = new Set<string>();

  if (mode === 'merge') {
    for (const w of wanted) {
      // An entry about to be cleared does not count as "already there".
      const there = entries.some((e) => e.key === w.key && !cleared(e.VALUE_TYPE));
      if (!there) ops.push({ kind: 'add', VALUE: w.value, VALUE_TYPE: w.valueType });
    }
  } else {
    // Every entry of the type is in scope once the row names any value of it.
    const replacing = wanted.length > 0;
    const inScope = (vt: string) => replacing || cleared(vt);
    const pending: Wanted[] = [];
    // 1. exact place: same value under the same VALUE_TYPE.
    for (const w of wanted) {
      const hit = entries.find((e) => !claimed.has(e.ID) && e.VALUE_TYPE === w.valueType && e.key === w.key);
      if (!hit) {
        pending.push(w);
        continue;
      }
      claimed.add(hit.ID);
      // Same value after normalising. Text is made exact, except a phone's formatting: portals may store phones
      // in their own format ("+7 (900) 111-22-33" for "79001112233"), undoing the rewrite, so every re-run
      // would write again.
      if (hit.VALUE !== w.value && type !== 'PHONE') ops.push({ kind: 'update', ID: hit.ID, VALUE: w.value, VALUE_TYPE: w.valueType });
    }
    // 2. same value under another VALUE_TYPE: that entry is moved (rewritten) rather than a new one added.
    for (const w of pending) {
      const hit =
        entries.find((e) => !claimed.has(e.ID) && e.key === w.key && !inScope(e.VALUE_TYPE)) ??
        entries.find((e) => !claimed.has(e.ID) && e.key === w.key && inScope(e.VALUE_TYPE) && !wantedHere(wanted, e));
      if (hit) {
        claimed.add(hit.ID);
        ops.push({ kind: 'update', ID: hit.ID, VALUE: w.value, VALUE_TYPE: w.valueType });
      } else {
        ops.push({ kind: 'add', VALUE: w.value, VALUE_TYPE: w.valueType });
      }
    }
    // 3. every other entry of the type goes, duplicates included.
    for (const e of entries) {
      if (!claimed.has(e.ID) && replacing) {
        claimed.add(e.ID);
        ops.push({ kind: 'delete', ID: e.ID, VALUE_TYPE: e.VALUE_TYPE });
      }
    }
  }
  for (const e of entries) {
    if (!claimed.has(e.ID) && cleared(e.VALUE_TYPE)) {
      claimed.add(e.ID);
      ops.push({ kind: 'delete', ID: e.ID, VALUE_TYPE: e.VALUE_TYPE });
    }
  }
  return ops;
}

/** True when the entry already sits where some wanted value wants it (so it must not be moved away). */
function wantedHere(wanted: readonly Wanted[], e: { key: string; VALUE_TYPE: string }): boolean {
  return wanted.some((w) => w.key === e.key && w.valueType === e.VALUE_TYPE);
}

/** The row's values for one type, without repeats (same normalised value under the same VALUE_TYPE; in
 * merge mode a repeat under another VALUE_TYPE is also dropped by the "already there" test). */
function uniqueWanted(type: string, values: readonly MultifieldValue[], phoneCountry: string | undefined): Wanted[] {
  const out: Wanted[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    if (v.DELETE === 'Y' || v.ID !== undefined) continue; // rows carry values, not portal entries
    // The portal trims VALUE: " a@b.com " is stored, and so compared and sent, as "a@b.com".
    const value = String(v.VALUE ?? '').trim();
    if (value === '') continue;
    const valueType = (v.VALUE_TYPE ?? defaultValueType(type)).toUpperCase();
    const key = normaliseMulti(type, value, phoneCountry);
    const id = `${valueType}\u0000${key}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ value, valueType, key });
  }
  return out;
}

function defaultValueType(type: string): string {
  return isMultifieldType(type) ? DEFAULT_VALUE_TYPE[type] : 'WORK';
}

/** Operations → the crm.lead.update array for that type. */
export function opsToFields(ops: readonly MultiOp[]): MultifieldValue[] {
  return ops.map((op) => {
    if (op.kind === 'add') return { VALUE: op.VALUE, VALUE_TYPE: op.VALUE_TYPE };
    if (op.kind === 'update') return { ID: op.ID, VALUE: op.VALUE, VALUE_TYPE: op.VALUE_TYPE };
    return { ID: op.ID, VALUE: '', DELETE: 'Y' as const };
  });
}

/**
 * The report's change labels for one type: `PHONE:MOBILE+1` (one added), `-n` deleted, `~n` rewritten
 * (formatting or moved to this VALUE_TYPE), combined as `PHONE:MOBILE+1-2`; one label per VALUE_TYPE,
 * sorted.
 */
export function changeLabels(type: string, ops: readonly MultiOp[]): string[] {
  const counts = new Map<string, { add: number; del: number; upd: number }>();
  for (const op of ops) {
    const c = counts.get(op.VALUE_TYPE) ?? { add: 0, del: 0, upd: 0 };
    if (op.kind === 'add') c.add++;
    else if (op.kind === 'delete') c.del++;
    else c.upd++;
    counts.set(op.VALUE_TYPE, c);
  }
  return [...counts.keys()].sort().map((vt) => {
    const c = counts.get(vt)!;
    return `${type}:${vt}${c.add ? `+${c.add}` : ''}${c.del ? `-${c.del}` : ''}${c.upd ? `~${c.upd}` : ''}`;
  });
}

/** The lead's entries after the operations ran (new entries get `newId()`), for planning a later row. */
export function applyOps(
  type: string,
  current: readonly PortalMultifield[],
  ops: readonly MultiOp[],
  newId: () => string,
): PortalMultifield[] {
  const out = current.map((e) => ({ ...e }));
  for (const op of ops) {
    if (op.kind === 'add') out.push({ ID: newId(), VALUE: op.VALUE, VALUE_TYPE: op.VALUE_TYPE, TYPE_ID: type });
    else if (op.kind === 'delete') {
      const i = out.findIndex((e) => String(e.ID) === op.ID);
      if (i >= 0) out.splice(i, 1);
    } else {
      const e = out.find((x) => String(x.ID) === op.ID);
      if (e) {
        e.VALUE = op.VALUE;
        e.VALUE_TYPE = op.VALUE_TYPE;
      }
    }
  }
  return out;
}
