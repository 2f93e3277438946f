import { quote } from '../../payloads/quote.ts';
import type { FieldSpec } from '../../types.ts';
import { normaliseScalar } from '../planning/normalise.ts';
import { duplicateCode } from './duplicateCode.ts';

/**
 * The key of a row under `--match EMAIL | PHONE | UF_CRM_…`.
 *
 * Which column: the FIRST column of the matched field in header order (`EMAIL_WORK` before `EMAIL_HOME`; for a
 * custom field, its one column). The other e-mail or phone columns are data, written as usual. Why not "any of
 * the row's e-mails": two columns could point at two different leads, and a user reading the report could not
 * tell which column chose the lead. One column, named in the report, is predictable.
 *
 * A cell with several values (`a@x.com|b@x.com`) is refused as a key (the row is invalid, naming the column): the
 * values could match two leads, and "the first one wins" would silently update the wrong lead when the file's
 * order is arbitrary. A user who means one of them can put it in its own column first.
 *
 * Identity: e-mails and phones compare by the portal's duplicate-index code (duplicateCode.ts: e-mail trimmed
 * and lower-cased; phone by Bitrix's NormalizePhone), so two rows whose keys the portal cannot tell apart are one
 * key and go to the same lead. The value sent to the portal is the cell as written (the code is not idempotent
 * under NormalizePhone for some leading-zero numbers). A custom field compares by the diff's normaliseScalar for
 * its type (`"042"` ≡ `42` for an integer field), and is sent as the row would write it.
 */

export type MatchSpec =
  | { kind: 'EMAIL' }
  | { kind: 'PHONE' }
  | { kind: 'UF'; code: string; spec: Pick<FieldSpec, 'code' | 'type' | 'multiple'> };

/** A row's key: `key` is its identity (what two rows share when they mean the same lead), `value` what is searched. */
export interface MatchKey {
  key: string;
  value: string;
  /**
   * The portal's answer for this key, once known: the leads that hold it (`[id]` one, `[]` none, several).
   * The matching planner sets it when it looks the key up; the run's key table (lambda/run/keyTable.ts) sets
   * it beforehand for a key the run already resolved, and the planner then decides from it without a look-up.
   */
  found?: readonly number[];
}

export type KeyCheck = { ok: true; key: MatchKey } | { ok: false; message: string };

/** Custom-field types a key may have: their stored value prints the way a CSV cell can say it, and `=` filters it. */
const KEY_TYPES = new Set(['string', 'integer', 'double', 'url', 'enumeration']);

/** True when a custom field of this type can be the key (the header check refuses `--match` on others). */
export function isKeyType(type: string): boolean {
  return KEY_TYPES.has(type);
}

/** The field code a column must have to hold the key (EMAIL, PHONE, or the custom field's code). */
export function keyFieldCode(match: MatchSpec): string {
  return match.kind === 'UF' ? match.code : match.kind;
}

/** The key column: the first column of the matched field, in header order (undefined: the file has none). */
export function keyColumn<C extends { index: number; code: string }>(match: MatchSpec, columns: readonly C[]): C | undefined {
  const code = keyFieldCode(match);
  return [...columns].sort((a, b) => a.index - b.index).find((c) => c.code === code);
}

/**
 * The key of one row from its key column's parsed values (a multifield cell's list, a custom field's value or
 * list), or why the row cannot be matched.
 *
 * @example rowKey({ kind: 'EMAIL' }, 'EMAIL_WORK', [' Ann@X.com ']) // → { ok: true, key: { key: 'ann@x.com', value: 'Ann@X.com' } }
 */
export function rowKey(match: MatchSpec, header: string, values: unknown): KeyCheck {
  const list = (Array.isArray(values) ? values : [values]).map(textOf).filter((v) => v !== '');
  if (list.length === 0)
    return { ok: false, message: `${header}: the key is empty; with --match ${keyFieldCode(match)} every row needs one` };
  if (list.length > 1) {
    return {
      ok: false,
      message: `${header}: the key cell holds ${list.length} values (${list.map(quote).join(', ')}); a key must be one value`,
    };
  }
  const value = list[0];
  const key = match.kind === 'UF' ? normaliseScalar(match.spec.type, value) : duplicateCode(match.kind, value);
  if (key === '') return { ok: false, message: `${header}: ${quote(value)} is not a usable ${label(match)} key` };
  return { ok: true, key: { key, value } };
}

function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object' && 'VALUE' in v) return String((v as { VALUE: unknown }).VALUE ?? '').trim();
  return String(v).trim();
}

/** How messages name the matched field. */
export function label(match: MatchSpec): string {
  if (match.kind === 'EMAIL') return 'e-mail';
  if (match.kind === 'PHONE') return 'phone';
  return match.code;
}
