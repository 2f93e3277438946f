import { BUILT_IN_COLUMN_NAMES, DERIVED_COLUMNS, nameKey } from './columnNames.ts';
import { DEFAULT_VALUE_TYPE, isMultifieldType, MULTIFIELD_VALUE_TYPES, type MultifieldType, UF_CODE } from './fields.ts';
import { isOpenChannelColumn } from './openChannel.ts';
import type { Catalogue, FieldSpec } from '../types.ts';

/** What a name resolves to: a field, a column no field holds (skipped), or nothing (with a hint). */
export type Resolved =
  | { kind: 'field'; code: string; spec: FieldSpec; valueType?: string }
  | { kind: 'derived'; target: string; reason: string }
  | { kind: 'unknown'; text: string };

/** A multifield's VALUE_TYPEs a column may write (not the Open Channel ones), for suggestions and messages. */
export function writableValueTypes(base: MultifieldType): readonly string[] {
  return MULTIFIELD_VALUE_TYPES[base].filter((vt) => !isOpenChannelColumn(base, vt));
}

/**
 * Every name a header may use, built once per header. A header cell is matched, in this order, by: the field
 * code (`PHONE_MOBILE` too), a custom field's label, the column titles Bitrix24's export and sample use
 * (columnNames.ts), then the portal's own titles of its standard fields. All name matches ignore case and runs
 * of spaces; a name that fits several fields of one kind is refused with the codes.
 */
export class FieldIndex {
  private readonly byCode = new Map<string, FieldSpec>();
  private readonly byLabel = new Map<string, FieldSpec[]>();
  private readonly byTitle = new Map<string, FieldSpec[]>();
  /** Writable names for "did you mean": codes plus multifield code_VALUETYPE forms. */
  private readonly names: string[] = [];

  /** `oneCell`: the whole header is one cell, so a delimiter inside it may be the file's delimiter. */
  constructor(
    private readonly catalogue: Catalogue,
    private readonly oneCell = false,
  ) {
    // ID is the key whatever the catalogue says about it.
    this.byCode.set('ID', { code: 'ID', type: 'integer', readOnly: true });
    this.names.push('ID');
    for (const spec of catalogue.fields.values()) {
      const code = spec.code.toUpperCase();
      if (code === 'ID') continue;
      this.byCode.set(code, spec);
      // Never suggest a column that would be refused (read-only, Open Channel bindings).
      if (!spec.readOnly && !isOpenChannelColumn(code, undefined)) this.names.push(code);
      if (spec.type === 'crm_multifield' && isMultifieldType(code)) {
        for (const vt of writableValueTypes(code)) this.names.push(`${code}_${vt}`);
      }
      addNames(this.byLabel, spec, spec.labels);
      addNames(this.byTitle, spec, spec.titles);
    }
  }

  /** A name → field; `labels` allows names other than codes (header cells, not mapping targets). */
  resolve(name: string, labels: boolean): Resolved {
    const upper = name.toUpperCase();
    const byCode = this.code(upper);
    if (byCode) return byCode;
    if (labels) {
      const key = nameKey(name);
      const label = this.named(this.byLabel.get(key));
      if (label) return label;
      const builtIn = BUILT_IN_COLUMN_NAMES.get(key);
      const known = builtIn === undefined ? undefined : this.builtIn(builtIn);
      if (known) return known;
      const title = this.named(this.byTitle.get(key));
      if (title) return title;
    }
    if (!this.catalogue.fromPortal && UF_CODE.test(upper)) {
      return { kind: 'field', code: upper, spec: { code: upper, type: 'string' } };
    }
    return { kind: 'unknown', text: this.hint(upper) };
  }

  /** `TITLE`, `PHONE` (its default VALUE_TYPE), `PHONE_MOBILE`; an unknown VALUE_TYPE of a known multifield is unknown. */
  private code(upper: string): Resolved | undefined {
    const spec = this.byCode.get(upper);
    if (spec) {
      if (spec.type === 'crm_multifield' && isMultifieldType(upper)) {
        return { kind: 'field', code: upper, spec, valueType: DEFAULT_VALUE_TYPE[upper] };
      }
      return { kind: 'field', code: spec.code, spec };
    }
    return this.multifield(upper);
  }

  /** A built-in title's target: a field this catalogue has, or a derived column; undefined if the portal lacks it. */
  private builtIn(target: string): Resolved | undefined {
    const reason = DERIVED_COLUMNS[target];
    if (reason !== undefined) return { kind: 'derived', target, reason };
    const r = this.code(target);
    return r?.kind === 'field' ? r : undefined;
  }

  private named(specs: FieldSpec[] | undefined): Resolved | undefined {
    if (!specs) return undefined;
    if (specs.length > 1) {
      return { kind: 'unknown', text: `(the name fits several fields: ${specs.map((s) => s.code).join(', ')}; use the code)` };
    }
    return this.code(specs[0].code.toUpperCase()) ?? { kind: 'field', code: specs[0].code, spec: specs[0] };
  }

  /** `PHONE_MOBILE` → PHONE + MOBILE; an unknown VALUE_TYPE for a known multifield is reported with the list. */
  private multifield(upper: string): Resolved | undefined {
    const cut = upper.indexOf('_');
    if (cut < 0) return undefined;
    const base = upper.slice(0, cut);
    const spec = this.byCode.get(base);
    if (spec?.type !== 'crm_multifield' || !isMultifieldType(base)) return undefined;
    const valueType = upper.slice(cut + 1);
    // Any LINK_… column resolves, so that it is refused for what it is (an Open Channel binding), not as unknown.
    if (MULTIFIELD_VALUE_TYPES[base].includes(valueType) || base === 'LINK') return { kind: 'field', code: base, spec, valueType };
    const writable = writableValueTypes(base);
    const alias = VALUE_TYPE_ALIASES[valueType];
    const near = alias && writable.includes(alias) ? `${base}_${alias}` : closest(upper, this.names);
    return { kind: 'unknown', text: `${near ? `did you mean ${near}? ` : ''}${base} value types: ${writable.join(', ')}` };
  }

  private hint(upper: string): string {
    // The whole header in one cell: the file was split on another delimiter (or --delimiter is wrong). When the
    // header has several cells, the file's delimiter already agrees with it: a `,` in a title is a title.
    const other = this.oneCell
      ? [';', ',', '\t'].find((d) => upper.split(d).length > 2 || (upper.includes(d) && /^ID\b/.test(upper)))
      : undefined;
    if (other) {
      const d = other === '\t' ? 'tab' : other;
      return `the header cell holds "${d}" between names: is that the file's delimiter? set --delimiter ${d}`;
    }
    const key = upper.replace(/[\s-]+/g, '_');
    const synonym = SYNONYMS[key];
    // `ASSIGNED_BY`, `COMPANY`…: the code without its `_ID` is too far for `closest` but plainly meant.
    const withId = this.names.includes(`${key}_ID`) ? `${key}_ID` : undefined;
    const near = synonym && this.names.includes(synonym) ? synonym : (withId ?? closest(upper, this.names));
    if (near) return `did you mean ${near}?`;
    if (upper.startsWith('UF_')) {
      // Offline any UF_CRM_ code is accepted, so an unknown one is badly formed, not missing from a portal.
      return this.catalogue.fromPortal
        ? 'no such custom field on the portal'
        : 'custom field codes are UF_CRM_ followed by letters, digits and _, e.g. UF_CRM_1712345678';
    }
    return '';
  }
}

function addNames(index: Map<string, FieldSpec[]>, spec: FieldSpec, names: readonly string[] | undefined): void {
  for (const name of names ?? []) {
    const key = nameKey(name);
    if (key === '' || key === spec.code.toLowerCase()) continue;
    const list = index.get(key) ?? [];
    if (!list.includes(spec)) list.push(spec);
    index.set(key, list);
  }
}

/** Everyday names for fields, used only to suggest the code (never accepted silently). */
const SYNONYMS: Record<string, string> = {
  FIRST_NAME: 'NAME',
  FIRSTNAME: 'NAME',
  GIVEN_NAME: 'NAME',
  SURNAME: 'LAST_NAME',
  FAMILY_NAME: 'LAST_NAME',
  MIDDLE_NAME: 'SECOND_NAME',
  PATRONYMIC: 'SECOND_NAME',
  BIRTHDAY: 'BIRTHDATE',
  DATE_OF_BIRTH: 'BIRTHDATE',
  STATUS: 'STATUS_ID',
  STAGE: 'STATUS_ID',
  SOURCE: 'SOURCE_ID',
  CURRENCY: 'CURRENCY_ID',
  AMOUNT: 'OPPORTUNITY',
  MOBILE: 'PHONE_MOBILE',
  PHONE_NUMBER: 'PHONE',
  POSITION: 'POST',
  JOB_TITLE: 'POST',
  COMPANY: 'COMPANY_TITLE',
  COMPANY_NAME: 'COMPANY_TITLE',
  CITY: 'ADDRESS_CITY',
  COUNTRY: 'ADDRESS_COUNTRY',
  ZIP: 'ADDRESS_POSTAL_CODE',
  ADDRESS_ZIP: 'ADDRESS_POSTAL_CODE',
  POSTAL_CODE: 'ADDRESS_POSTAL_CODE',
  RESPONSIBLE: 'ASSIGNED_BY_ID',
  WEBSITE: 'WEB',
  SITE: 'WEB',
  LEAD_ID: 'ID',
};

/** Common names for VALUE_TYPEs, used only to suggest the right column name. */
const VALUE_TYPE_ALIASES: Record<string, string> = {
  CELL: 'MOBILE',
  CELLPHONE: 'MOBILE',
  MOB: 'MOBILE',
  PERSONAL: 'HOME',
  PRIVATE: 'HOME',
  OFFICE: 'WORK',
  BUSINESS: 'WORK',
  TG: 'TELEGRAM',
  WHATSAPP: 'OTHER',
};

/**
 * The known name nearest to `name`, if near enough to be a typo. The allowance grows with the part after the
 * common prefix, so `UF_CRM_OTHER` is not "near" `UF_CRM_TIER` while `TITEL` is near `TITLE`.
 */
export function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of names) {
    let prefix = 0;
    while (prefix < name.length && name[prefix] === candidate[prefix]) prefix++;
    const limit = Math.max(1, Math.floor((Math.max(name.length, candidate.length) - prefix) / 3));
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const d = distance(name, candidate);
    if (d <= limit && d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (TITEL → TITLE is 1). */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1];
}
