import { isMultifieldType } from '../payloads/fields.ts';
import type { Catalogue, LeadFields, LeadRecord, MultifieldValue, PortalMultifield } from '../types.ts';
import { normaliseValue } from '../calls/planning/normalise.ts';
import { EOL, formatCell } from './lines.ts';
export { CHANGE_COLUMNS, CHANGES_FILE, CHANGES_JSON_FILE, changesHeader, hasChangeLog } from './changeFiles.ts';

/**
 * The change log: one entry per field, and per multifield entry, that a run changed, with the value it held
 * (as read for the diff) and the value the run wrote, both in the diff's normalised form. Built from the read
 * the diff already made and the payload it sent: no request of its own. An added phone or e-mail has no entry
 * ID yet (the portal does not return it); undo finds it again by its value, so learning the ID costs nothing.
 *
 * changes.csv is the human copy (formula-safe cells, like the report); changes.jsonl holds the same entries
 * exactly, for undo (a formula guard cannot be taken off again without doubt).
 */

export interface ChangeEntry {
  line: number;
  id: number;
  /** A field code (`TITLE`), or a multifield entry `PHONE:MOBILE` (added) / `PHONE:MOBILE#123` (entry 123). */
  field: string;
  /** Normalised (lambda/calls/planning/normalise.ts); the values of a multiple field are separated by NUL. */
  before: string;
  after: string;
  /** A multifield entry's VALUE_TYPE before and after ('' where the entry did not exist). */
  types?: [string, string];
}

/** A multifield entry's name in the log: type, VALUE_TYPE and, when it has one, the entry ID. */
export function entryField(type: string, valueType: string, entryId?: string): string {
  return `${type}:${valueType}${entryId ? `#${entryId}` : ''}`;
}

/** `PHONE:MOBILE#123` → its parts; undefined for a plain field code. */
export function parseEntryField(field: string): { type: string; valueType: string; entryId?: string } | undefined {
  const m = /^([A-Z_]+):([A-Z0-9_]+)(?:#(\S+))?$/.exec(field);
  if (!m || !isMultifieldType(m[1])) return undefined;
  return { type: m[1], valueType: m[2], ...(m[3] ? { entryId: m[3] } : {}) };
}

/**
 * The entries one write makes, given the lead as read before it. Pure.
 *
 * @example changeEntries(5, 7, { ID: '7', TITLE: 'Old' }, { TITLE: 'New' }, catalogue)
 * // → [{ line: 5, id: 7, field: 'TITLE', before: 'Old', after: 'New' }]
 */
export function changeEntries(line: number, id: number, current: LeadRecord, fields: LeadFields, catalogue: Catalogue): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  for (const [code, value] of Object.entries(fields)) {
    if (isMultifieldType(code)) {
      for (const e of multifieldEntries(code, (current[code] as PortalMultifield[] | undefined) ?? [], value as MultifieldValue[]))
        out.push({ line, id, ...e });
      continue;
    }
    const spec = catalogue.fields.get(code) ?? { code, type: 'string' };
    const before = normaliseValue(spec, current[code]);
    const after = normaliseValue(spec, value);
    if (before !== after) out.push({ line, id, field: code, before, after });
  }
  return out;
}

/** Multiple values are kept apart by NUL in the normalised form; the log shows them separated by `|`. */
function readable(normalised: string): string {
  return normalised.replaceAll('\u0000', '|');
}

function multifieldEntries(
  type: string,
  current: readonly PortalMultifield[],
  sent: readonly MultifieldValue[],
): Omit<ChangeEntry, 'line' | 'id'>[] {
  return sent.flatMap((v): Omit<ChangeEntry, 'line' | 'id'>[] => {
    if (v.ID === undefined) {
      const vt = v.VALUE_TYPE ?? 'WORK';
      return [{ field: entryField(type, vt), before: '', after: v.VALUE, types: ['', vt] }];
    }
    const old = current.find((e) => String(e.ID) === String(v.ID));
    if (!old) return [];
    if (v.DELETE === 'Y')
      return [{ field: entryField(type, old.VALUE_TYPE, old.ID), before: old.VALUE, after: '', types: [old.VALUE_TYPE, ''] }];
    const vt = v.VALUE_TYPE ?? old.VALUE_TYPE;
    if (old.VALUE === v.VALUE && old.VALUE_TYPE === vt) return [];
    return [{ field: entryField(type, vt, old.ID), before: old.VALUE, after: v.VALUE, types: [old.VALUE_TYPE, vt] }];
  });
}

/** A value as changes.csv shows it; an entry moved to another VALUE_TYPE shows both (`WORK:+7 900…` → `MOBILE:+7 900…`). */
function shown(e: ChangeEntry, side: 0 | 1): string {
  const value = readable(side === 0 ? e.before : e.after);
  const t = e.types;
  return t && t[0] !== '' && t[1] !== '' && t[0] !== t[1] && value !== '' ? `${t[side]}:${value}` : value;
}

/** One entry → one changes.csv line (formula-safe, like the report's cells). */
export function formatChange(e: ChangeEntry): string {
  return [String(e.line), String(e.id), e.field, shown(e, 0), shown(e, 1)].map(formatCell).join(',') + EOL;
}

/** One entry → one changes.jsonl line: the exact values, for undo. */
export function jsonChange(e: ChangeEntry): string {
  return JSON.stringify(e) + '\n';
}
