import { normaliseMulti, normaliseValue } from '../calls/planning/normalise.ts';
import { type ChangeEntry, parseEntryField } from '../report/changeLog.ts';
import type { Catalogue, FieldSpec, LeadFields, LeadRecord, MultifieldValue, PortalMultifield } from '../types.ts';

/**
 * Undo, per lead: put back each field's `before` only where the lead still holds the run's `after`. A field
 * someone changed since is left alone and reported as a conflict. Added multifield entries are deleted (found
 * by their value: the run never learned their IDs), deleted ones added again, rewritten ones restored by ID,
 * under the same rule. Pure.
 */

export interface Conflict {
  field: string;
  /** What the lead holds now, readable. */
  current: string;
}

export interface RevertPlan {
  /** The crm.lead.update fields; null when nothing is to be put back. */
  fields: LeadFields | null;
  conflicts: Conflict[];
}

/**
 * A run may change one field of a lead on several rows: what counts is the first `before` and the last
 * `after`. Entries in file order.
 */
export function netChanges(entries: readonly ChangeEntry[]): ChangeEntry[] {
  const byKey = new Map<string, ChangeEntry>();
  for (const e of entries) {
    const entry = parseEntryField(e.field);
    // Added entries have no ID: each added value is its own entry.
    const key = entry && entry.entryId === undefined ? `${e.field}\u0000${e.after}` : e.field;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...e });
    else
      byKey.set(key, { ...seen, after: e.after, line: e.line, ...(seen.types && e.types ? { types: [seen.types[0], e.types[1]] } : {}) });
  }
  return [...byKey.values()].filter((e) => e.before !== e.after);
}

export function planRevert(entries: readonly ChangeEntry[], current: LeadRecord, catalogue: Catalogue, phoneCountry?: string): RevertPlan {
  const fields: LeadFields = {};
  const conflicts: Conflict[] = [];
  for (const e of netChanges(entries)) {
    const entry = parseEntryField(e.field);
    if (entry) revertEntry(e, entry, current, fields, conflicts, phoneCountry);
    else revertScalar(e, catalogue.fields.get(e.field) ?? { code: e.field, type: 'string' }, current, fields, conflicts);
  }
  return { fields: Object.keys(fields).length > 0 ? fields : null, conflicts };
}

function revertScalar(e: ChangeEntry, spec: FieldSpec, current: LeadRecord, fields: LeadFields, conflicts: Conflict[]): void {
  const now = normaliseValue(spec, current[e.field]);
  if (now === e.before) return; // already as it was
  if (now !== e.after) {
    conflicts.push({ field: e.field, current: now.replaceAll('\u0000', '|') });
    return;
  }
  fields[e.field] = writable(spec, e.before);
}

/** A normalised value as crm.lead.update takes it: a list for a multiple field, Y/N for a char flag. */
export function writable(spec: Pick<FieldSpec, 'type' | 'multiple'>, normalised: string): string | string[] {
  if (spec.multiple) return normalised === '' ? [] : normalised.split('\u0000');
  if (spec.type === 'char') return normalised === '1' ? 'Y' : normalised === '0' ? 'N' : normalised;
  return normalised;
}

type Entry = { type: string; valueType: string; entryId?: string };

function revertEntry(e: ChangeEntry, entry: Entry, current: LeadRecord, fields: LeadFields, conflicts: Conflict[], country?: string): void {
  const list = (current[entry.type] as PortalMultifield[] | undefined) ?? [];
  const key = (v: string) => normaliseMulti(entry.type, v, country);
  const [beforeType, afterType] = e.types ?? [entry.valueType, entry.valueType];
  const push = (v: MultifieldValue) => {
    const sent = (fields[entry.type] as MultifieldValue[] | undefined) ?? [];
    sent.push(v);
    fields[entry.type] = sent;
  };
  if (entry.entryId === undefined) {
    // Added by the run: delete the entry that holds the value, if one still does.
    const held = list.find((x) => key(x.VALUE) === key(e.after) && x.VALUE_TYPE === afterType);
    if (held) push({ ID: String(held.ID), VALUE: '', DELETE: 'Y' });
    return;
  }
  if (e.after === '') {
    // Deleted by the run: add it again unless the value is back already.
    if (!list.some((x) => key(x.VALUE) === key(e.before))) push({ VALUE: e.before, VALUE_TYPE: beforeType });
    return;
  }
  const held = list.find((x) => String(x.ID) === entry.entryId);
  if (held && held.VALUE === e.before && held.VALUE_TYPE === beforeType) return;
  if (!held || held.VALUE !== e.after || held.VALUE_TYPE !== afterType) {
    conflicts.push({ field: e.field, current: held ? `${held.VALUE_TYPE}:${held.VALUE}` : '(deleted)' });
    return;
  }
  push({ ID: String(held.ID), VALUE: e.before, VALUE_TYPE: beforeType });
}
