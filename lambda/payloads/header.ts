import { FileRefusedError } from '../errors.ts';
import { DEFAULT_VALUE_TYPE, isMultifieldType, MULTIFIELD_VALUE_TYPES, type MultifieldType, UF_CODE } from './fields.ts';
import { isOpenChannelColumn, OPEN_CHANNEL_REASON } from './openChannel.ts';
import type { Catalogue, FieldSpec } from '../types.ts';

/** One header cell resolved to a lead field. Empty header cells get no Column. */
export interface Column {
  /** Position of the cell in each record. */
  index: number;
  /** The header as the user wrote it (trimmed, BOM removed): messages quote it. */
  header: string;
  /** Field code (`TITLE`, `PHONE`, `UF_CRM_5`…); for multifield columns the multifield type. */
  code: string;
  spec: FieldSpec;
  /** Multifields only: the VALUE_TYPE this column writes (`MOBILE`, `WORK`…). */
  valueType?: string;
}

export interface HeaderOptions {
  /** User header → field code, keys matched case-insensitively after trimming. */
  mapping: Record<string, string>;
  catalogue: Catalogue;
}

/** Refusal codes, most important first: one refusal carries the first code present. */
const CODE_ORDER = ['MISSING_ID_COLUMN', 'UNKNOWN_COLUMN', 'READ_ONLY_COLUMN', 'DUPLICATE_COLUMN'] as const;
type RefusalCode = (typeof CODE_ORDER)[number];

/** One reason the header is refused, as the refusal lists it. */
interface HeaderProblem {
  code: RefusalCode;
  text: string;
}

type Resolved = { ok: true; code: string; spec: FieldSpec; valueType?: string } | { ok: false; text: string };

/**
 * Header cells → column plan. Applies the mapping first, then matches field codes case-insensitively
 * (custom fields also by their portal labels). Refuses the whole file, naming every offending column, when
 * a column is unknown, read-only, duplicated, or the ID column is missing. Columns that would write Open
 * Channel bindings (IM_OPENLINE, IM_IMOL, any LINK column, however reached) are refused as read-only: the
 * portal manages them and overwriting them unlinks the lead from its chats. TITLE is `isRequired` in
 * crm.lead.fields, yet no column is demanded: an update sends only what the file gives, and a TITLE cell that
 * would empty the title is refused per row (titleCell.ts).
 *
 * @example resolveHeader(['ID', 'Title', 'PHONE_MOBILE'], { mapping: {}, catalogue: standardCatalogue() })
 * // → [{ index: 0, code: 'ID', … }, { index: 1, code: 'TITLE', … }, { index: 2, code: 'PHONE', valueType: 'MOBILE', … }]
 * @throws FileRefusedError UNKNOWN_COLUMN | DUPLICATE_COLUMN | READ_ONLY_COLUMN | MISSING_ID_COLUMN
 */
export function resolveHeader(cells: string[], opts: HeaderOptions): Column[] {
  const index = new FieldIndex(opts.catalogue);
  const problems: HeaderProblem[] = [];

  const mapping = resolveMapping(opts.mapping, index, problems);

  const columns: Column[] = [];
  const seen = new Map<string, Column>();
  let hasId = false;
  cells.forEach((cell, i) => {
    const header = stripBom(cell).trim();
    if (header === '') return; // a trailing delimiter from Excel: ignored (rows with a value there get a warning)
    const mapped = mapping.get(header.toLowerCase());
    const resolved = mapped ? index.resolve(mapped.to.trim(), false) : index.resolve(header, true);
    if (!resolved.ok) {
      // A bad mapping target is reported once, from the mapping itself.
      if (!mapped) problems.push({ code: 'UNKNOWN_COLUMN', text: `unknown column ${shown(header)} ${resolved.text}` });
      return;
    }
    const { code, spec, valueType } = resolved;
    if (isOpenChannelColumn(code, valueType)) {
      problems.push({ code: 'READ_ONLY_COLUMN', text: openChannelRefusal(header, mapped?.to, code) });
      return;
    }
    if (code === 'ID') hasId = true;
    else if (spec.readOnly) {
      problems.push({
        code: 'READ_ONLY_COLUMN',
        text: `read-only column ${shown(header)}${header.toUpperCase() === code ? '' : ` (${code})`} (the portal sets it; remove the column)`,
      });
      return;
    }
    const key = valueType ? `${code}:${valueType}` : code;
    const earlier = seen.get(key);
    if (earlier) {
      const what = valueType ? `${code} ${valueType}` : code;
      problems.push({
        code: 'DUPLICATE_COLUMN',
        text: `duplicate column ${shown(header)} (column ${i + 1}: ${what} is already set by ${shown(earlier.header)}, column ${earlier.index + 1})`,
      });
      return;
    }
    const column: Column = valueType ? { index: i, header, code, spec, valueType } : { index: i, header, code, spec };
    seen.set(key, column);
    columns.push(column);
  });

  if (!hasId) problems.push({ code: 'MISSING_ID_COLUMN', text: 'no ID column: the header must name the lead ID column "ID"' });

  if (problems.length > 0) throw refusal(problems);
  return columns;
}

/** `"Chat" (IM_OPENLINE): Open Channel bindings are …`: the field named as the mapping or header named it. */
function openChannelRefusal(header: string, mappedTo: string | undefined, code: string): string {
  const name = (mappedTo ?? header).trim().toUpperCase();
  // A label reaches the field by another name: show the code.
  const field = name === code || name.startsWith(`${code}_`) ? name : code;
  return `${shown(header)}${header.toUpperCase() === field ? '' : ` (${field})`}: ${OPEN_CHANNEL_REASON} (remove the column)`;
}

/** A multifield's VALUE_TYPEs a column may write (not the Open Channel ones), for suggestions and messages. */
function writableValueTypes(base: MultifieldType): readonly string[] {
  return MULTIFIELD_VALUE_TYPES[base].filter((vt) => !isOpenChannelColumn(base, vt));
}

/** The mapping keyed for lookup (normalised user header); a target that names no field is a problem. */
function resolveMapping(
  entries: Record<string, string>,
  index: FieldIndex,
  problems: HeaderProblem[],
): Map<string, { from: string; to: string }> {
  const mapping = new Map<string, { from: string; to: string }>();
  for (const [from, to] of Object.entries(entries)) {
    mapping.set(normalKey(from), { from, to });
    const target = index.resolve(to.trim(), false);
    if (!target.ok) problems.push({ code: 'UNKNOWN_COLUMN', text: `mapping ${shown(from)} → ${shown(to)}: ${target.text}` });
  }
  return mapping;
}

/** One refusal for every problem: the most important code, the problems listed (at most MAX_PROBLEMS). */
function refusal(problems: readonly HeaderProblem[]): FileRefusedError {
  const code = CODE_ORDER.find((c) => problems.some((p) => p.code === c))!;
  // A hostile header (thousands of columns) must not make a megabyte message: it lands in the run state too.
  const listed = problems.slice(0, MAX_PROBLEMS).map((p) => p.text);
  if (problems.length > MAX_PROBLEMS) listed.push(`… and ${problems.length - MAX_PROBLEMS} more problems`);
  return new FileRefusedError(code, `header refused: ${listed.join('; ')}`);
}

/** Every name a header may use, built once per header. */
class FieldIndex {
  private readonly byCode = new Map<string, FieldSpec>();
  private readonly byLabel = new Map<string, FieldSpec[]>();
  /** Writable names for "did you mean": codes plus multifield code_VALUETYPE forms. */
  private readonly names: string[] = [];

  constructor(private readonly catalogue: Catalogue) {
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
      for (const label of spec.labels ?? []) {
        const key = normalKey(label);
        if (key === '') continue;
        const list = this.byLabel.get(key) ?? [];
        if (!list.includes(spec)) list.push(spec);
        this.byLabel.set(key, list);
      }
    }
  }

  /** A name → field; `labels` allows custom field labels (header cells, not mapping targets). */
  resolve(name: string, labels: boolean): Resolved {
    const upper = name.toUpperCase();
    const spec = this.byCode.get(upper);
    if (spec) {
      if (spec.type === 'crm_multifield' && isMultifieldType(upper)) {
        return { ok: true, code: upper, spec, valueType: DEFAULT_VALUE_TYPE[upper] };
      }
      return { ok: true, code: spec.code, spec };
    }
    const multi = this.multifield(upper);
    if (multi) return multi;
    if (labels) {
      const byLabel = this.byLabel.get(name.toLowerCase());
      if (byLabel && byLabel.length === 1) return { ok: true, code: byLabel[0].code, spec: byLabel[0] };
      if (byLabel) {
        return { ok: false, text: `(the label names several fields: ${byLabel.map((s) => s.code).join(', ')}; use the code)` };
      }
    }
    if (!this.catalogue.fromPortal && UF_CODE.test(upper)) {
      return { ok: true, code: upper, spec: { code: upper, type: 'string' } };
    }
    return { ok: false, text: this.hint(upper) };
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
    if (MULTIFIELD_VALUE_TYPES[base].includes(valueType) || base === 'LINK') return { ok: true, code: base, spec, valueType };
    const writable = writableValueTypes(base);
    const alias = VALUE_TYPE_ALIASES[valueType];
    const near = alias && writable.includes(alias) ? `${base}_${alias}` : closest(upper, this.names);
    return {
      ok: false,
      text: `(${near ? `did you mean ${near}? ` : ''}${base} value types: ${writable.join(', ')})`,
    };
  }

  private hint(upper: string): string {
    // The whole header in one cell: the file was split on another delimiter (or --delimiter is wrong).
    const other = [';', ',', '\t'].find((d) => upper.split(d).length > 2 || (upper.includes(d) && /^ID\b/.test(upper)));
    if (other)
      return `(the header cell holds "${other === '\t' ? 'tab' : other}" between names: is that the file's delimiter? set --delimiter ${other === '\t' ? 'tab' : other})`;
    const key = upper.replace(/[\s-]+/g, '_');
    const synonym = SYNONYMS[key];
    // `ASSIGNED_BY`, `COMPANY`…: the code without its `_ID` is too far for `closest` but plainly meant.
    const withId = this.names.includes(`${key}_ID`) ? `${key}_ID` : undefined;
    const near = synonym && this.names.includes(synonym) ? synonym : (withId ?? closest(upper, this.names));
    if (near) return `(did you mean ${near}?)`;
    if (upper.startsWith('UF_')) {
      // Offline any UF_CRM_ code is accepted, so an unknown one is badly formed, not missing from a portal.
      return this.catalogue.fromPortal
        ? '(no such custom field on the portal)'
        : '(custom field codes are UF_CRM_ followed by letters, digits and _, e.g. UF_CRM_1712345678)';
    }
    return '(not a crm.lead.update field: fix the name, map it in the mapping file, or remove the column)';
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

const MAX_PROBLEMS = 20;
const MAX_SHOWN = 80;

/** A header cell as messages quote it: at most 80 characters, control characters shown as \uXXXX, never copied. */
function shown(s: string): string {
  const cut = s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
  const safe = cut.replace(/[\u0000-\u001F\u007F-\u009F]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return `"${safe}"`;
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function normalKey(s: string): string {
  return stripBom(s).trim().toLowerCase();
}

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
