import { BUILT_IN_COLUMN_NAMES, FULL_ADDRESS_NAMES, nameKey } from './columnNames.ts';
import { FieldIndex, type Resolved } from './fieldIndex.ts';
import { type HeaderProblem, headerRefusal, shown, skippedNotice, type SkippedColumn } from './headerProblems.ts';
import { isOpenChannelColumn, OPEN_CHANNEL_REASON } from './openChannel.ts';
import type { Catalogue, FieldSpec } from '../types.ts';
import { FileRefusedError } from '../errors.ts';
import { isKeyType, keyColumn, keyFieldCode, type MatchSpec } from '../calls/matching/keys.ts';

export { closest } from './fieldIndex.ts';
export type { SkippedColumn } from './headerProblems.ts';

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
  /** Offline only: what the portal would check in this column that the built-in list cannot (`STATUS_ID codes`). */
  unchecked?: string;
}

export interface HeaderOptions {
  /** User header → field code, keys matched case-insensitively after trimming; null skips the column. */
  mapping: Record<string, string | null>;
  catalogue: Catalogue;
  /** Skip unknown and read-only columns (one warning) instead of refusing the file (`--ignore-unknown`). */
  ignoreUnknown?: boolean;
  /** `--match`: the field that finds a row's lead when it has no ID (ID, EMAIL, PHONE, a custom field's code or label). */
  match?: string;
}

/** The header read: the columns written, the columns skipped, and the one warning that lists the skipped ones. */
export interface HeaderPlan {
  columns: Column[];
  skipped: SkippedColumn[];
  /** File-level warnings (at most one: the skipped columns, each named once). */
  notices: string[];
}

/**
 * Header cells → the columns an import writes. Applies the mapping first (a null target skips the column), then
 * matches codes, labels and the names Bitrix24 writes (fieldIndex.ts). Refuses the whole file, listing every
 * problem grouped by kind, when a column is unknown, read-only, duplicated, or the ID column is missing; with
 * `ignoreUnknown` unknown and read-only columns are skipped instead. Columns no lead field holds (the export's
 * full name, full address, product columns) are always skipped. Columns that would write Open Channel bindings
 * (IM_OPENLINE, IM_IMOL, any LINK column) are refused as read-only when named by code: overwriting them unlinks
 * the lead from its chats; the export's own (empty) binding columns, named as the export names them, are skipped.
 *
 * @example readHeader(['ID', 'Рабочий телефон', 'Created'], { mapping: {}, catalogue, ignoreUnknown: true })
 * // → { columns: [ID, PHONE WORK], skipped: [{ header: 'Created', … }], notices: ['1 column skipped …'] }
 * @throws FileRefusedError UNKNOWN_COLUMN | DUPLICATE_COLUMN | READ_ONLY_COLUMN | MISSING_ID_COLUMN
 */
export function readHeader(cells: string[], opts: HeaderOptions): HeaderPlan {
  const nonEmpty = cells.filter((c) => stripBom(c).trim() !== '').length;
  const index = new FieldIndex(opts.catalogue, nonEmpty === 1);
  const problems: HeaderProblem[] = [];
  const skipped: SkippedColumn[] = [];
  const mapping = resolveMapping(opts.mapping, index, problems);
  const columns: Column[] = [];

  cells.forEach((cell, i) => {
    const header = stripBom(cell).trim();
    if (header === '') return; // a trailing delimiter from Excel: ignored (rows with a value there get a warning)
    const mapped = mapping.get(normalKey(header));
    if (mapped && mapped.to === null) {
      skipped.push({ index: i, header, reason: 'mapped to null in the mapping file' });
      return;
    }
    const resolved = mapped?.to ? index.resolve(mapped.to.trim(), false) : index.resolve(header, true);
    const outcome = judge(header, i, resolved, mapped?.to ?? undefined);
    if (outcome.kind === 'column') columns.push(outcome.column);
    else if (outcome.kind === 'skip') skipped.push(outcome.skipped);
    // A bad mapping target is reported once, from the mapping itself.
    else if (!(mapped && outcome.problem.code === 'UNKNOWN_COLUMN')) problems.push(outcome.problem);
  });

  const kept = settleDuplicates(columns, problems, skipped);
  const match = matchSpecOf(opts.match, opts.catalogue);
  if (!match && !kept.some((c) => c.code === 'ID')) problems.push({ code: 'MISSING_ID_COLUMN', header: '', index: -1, text: '' });
  if (match && !keyColumn(match, kept)) {
    const text = `--match ${opts.match!.trim()} finds leads by ${keyFieldCode(match)}, and no column of the header holds it`;
    problems.push({ code: 'MISSING_KEY_COLUMN', header: '', index: -1, text });
  }

  const refused = opts.ignoreUnknown ? skipIgnorable(problems, skipped) : problems;
  if (refused.length > 0) throw headerRefusal(refused);
  const offline = !opts.catalogue.fromPortal;
  const planned = offline ? kept.map(markUnchecked) : kept;
  const notice = skippedNotice(skipped);
  return { columns: planned, skipped, notices: notice ? [notice] : [] };
}

/**
 * `--match` as a MatchSpec: undefined for ID (the default); EMAIL and PHONE; a custom field by code or label, of a
 * type whose stored value a cell can say. Pure.
 *
 * @throws FileRefusedError INVALID_MATCH naming the field and why
 */
export function matchSpecOf(match: string | undefined, catalogue: Catalogue): MatchSpec | undefined {
  const name = (match ?? 'ID').trim();
  const upper = name.toUpperCase();
  if (upper === 'ID') return undefined;
  if (upper === 'EMAIL' || upper === 'PHONE') return { kind: upper };
  const resolved = new FieldIndex(catalogue, false).resolve(name, true);
  if (resolved.kind !== 'field' || !resolved.code.startsWith('UF_')) {
    throw new FileRefusedError(
      'INVALID_MATCH',
      `--match ${name}: leads are found by ID, EMAIL, PHONE or a custom field (UF_CRM_…, or its label)`,
    );
  }
  if (!isKeyType(resolved.spec.type) || resolved.spec.multiple) {
    throw new FileRefusedError(
      'INVALID_MATCH',
      `--match ${name}: ${resolved.code} is a ${resolved.spec.multiple ? 'multiple ' : ''}${resolved.spec.type} field; a key field holds one string, number, URL or list item`,
    );
  }
  return { kind: 'UF', code: resolved.code, spec: resolved.spec };
}

/** The columns only (the plan's other parts are for the run's warnings). @throws FileRefusedError as readHeader */
export function resolveHeader(cells: string[], opts: HeaderOptions): Column[] {
  return readHeader(cells, opts).columns;
}

type Judged = { kind: 'column'; column: Column } | { kind: 'skip'; skipped: SkippedColumn } | { kind: 'problem'; problem: HeaderProblem };

/** One resolved header cell → a column, a skipped column (derived, the export's binding columns) or a problem. */
function judge(header: string, index: number, resolved: Resolved, mappedTo: string | undefined): Judged {
  if (resolved.kind === 'derived') return { kind: 'skip', skipped: { index, header, reason: resolved.reason } };
  if (resolved.kind === 'unknown') return { kind: 'problem', problem: { code: 'UNKNOWN_COLUMN', header, index, text: resolved.text } };
  const { code, spec, valueType } = resolved;
  if (isOpenChannelColumn(code, valueType)) {
    const field = bindingName(header, mappedTo, code);
    // The export writes every binding column (empty in its sample); named as the export names them, they are skipped.
    if (!mappedTo && BUILT_IN_COLUMN_NAMES.has(nameKey(header)) && !sameName(header, field)) {
      const skipped = { index, header, field: `${code}_${valueType}`, reason: 'Open Channel bindings are never written' };
      return { kind: 'skip', skipped };
    }
    const text = `${OPEN_CHANNEL_REASON} (remove the column)`;
    return { kind: 'problem', problem: { code: 'READ_ONLY_COLUMN', header, index, field, text, binding: true } };
  }
  if (code !== 'ID' && spec.readOnly) {
    return { kind: 'problem', problem: { code: 'READ_ONLY_COLUMN', header, index, field: code, text: '' } };
  }
  const column: Column = valueType ? { index, header, code, spec, valueType } : { index, header, code, spec };
  return { kind: 'column', column };
}

/** `IM_OPENLINE`, `LINK_USER`: the field as the mapping or header named it, else its code. */
function bindingName(header: string, mappedTo: string | undefined, code: string): string {
  const name = (mappedTo ?? header).trim().toUpperCase();
  // A label or title reaches the field by another name: show the code.
  return name === code || name.startsWith(`${code}_`) ? name : code;
}

/**
 * Columns writing the same field (or multifield VALUE_TYPE) are duplicates, except the export's full-address
 * column: `Адрес`/`Address` beside a column that holds ADDRESS is the composed address (the sample has both).
 */
function settleDuplicates(columns: Column[], problems: HeaderProblem[], skipped: SkippedColumn[]): Column[] {
  const kept: Column[] = [];
  const seen = new Map<string, Column>();
  const fullAddress = columns.filter((c) => c.code === 'ADDRESS' && FULL_ADDRESS_NAMES.has(nameKey(c.header)));
  const street = columns.some((c) => c.code === 'ADDRESS' && !fullAddress.includes(c));
  for (const column of columns) {
    if (street && fullAddress.includes(column)) {
      skipped.push({
        index: column.index,
        header: column.header,
        reason: 'composed by the portal from the ADDRESS_* parts: write those columns',
      });
      continue;
    }
    const key = column.valueType ? `${column.code}:${column.valueType}` : column.code;
    const earlier = seen.get(key);
    if (earlier) {
      const what = column.valueType ? `${column.code} ${column.valueType}` : column.code;
      const text = `${what} is already set by ${shown(earlier.header)}, column ${earlier.index + 1}`;
      problems.push({ code: 'DUPLICATE_COLUMN', header: column.header, index: column.index, text });
      continue;
    }
    seen.set(key, column);
    kept.push(column);
  }
  return kept;
}

/** `--ignore-unknown`: unknown and read-only columns join the skipped ones; the other problems still refuse. */
function skipIgnorable(problems: HeaderProblem[], skipped: SkippedColumn[]): HeaderProblem[] {
  const left: HeaderProblem[] = [];
  for (const p of problems) {
    const column = p.index >= 0 && !p.mapping;
    if (column && p.code === 'UNKNOWN_COLUMN') skipped.push({ index: p.index, header: p.header, reason: 'unknown' });
    else if (column && p.code === 'READ_ONLY_COLUMN') {
      const reason = p.binding ? 'Open Channel bindings are never written' : 'read-only';
      skipped.push({ index: p.index, header: p.header, field: p.field, reason });
    } else left.push(p);
  }
  return left;
}

/** Offline, what the built-in list cannot check: status codes, custom fields (their labels, types, enumeration values). */
function markUnchecked(column: Column): Column {
  const { code, spec } = column;
  if (spec.type === 'crm_status') return { ...column, unchecked: `${code} code` };
  if (code.startsWith('UF_')) return { ...column, unchecked: `${code} (the field, its type and values)` };
  return column;
}

/** The mapping keyed for lookup (normalised user header); a target that names no field is a problem. */
function resolveMapping(
  entries: Record<string, string | null>,
  index: FieldIndex,
  problems: HeaderProblem[],
): Map<string, { from: string; to: string | null }> {
  const mapping = new Map<string, { from: string; to: string | null }>();
  for (const [from, to] of Object.entries(entries)) {
    mapping.set(normalKey(from), { from, to });
    if (to === null) continue;
    const target = index.resolve(to.trim(), false);
    if (target.kind === 'unknown') {
      problems.push({ code: 'UNKNOWN_COLUMN', header: from, index: -1, text: target.text, mapping: to });
    }
  }
  return mapping;
}

function sameName(header: string, field: string): boolean {
  return header.toUpperCase() === field;
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function normalKey(s: string): string {
  return nameKey(stripBom(s));
}
