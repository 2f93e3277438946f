import { z } from 'zod';
import { rowOutcome } from '../report/outcome.ts';
import type { RunOptions } from '../config.ts';
import { ADDRESS_FIELDS } from './fields.ts';
import type { Column } from './header.ts';
import type { Catalogue, FieldSpec, LeadFields, MultifieldValue, RowCheck, SourceRecord } from '../types.ts';

/**
 * Rows → payloads: one record's cells → a ValidRow (a crm.lead.update payload) or an `invalid` RowOutcome.
 * Per-column zod schemas are built once in compileRows; the returned function runs for every row.
 */

/** What compileRows reads from the run options. */
type RowOptions = Pick<RunOptions, 'clearMarker'> & { input: Pick<RunOptions['input'], 'maxCellBytes'> };

type CellValue = string | number | (string | number)[];

interface ColumnPlan {
  index: number;
  header: string;
  code: string;
  /** Multifield VALUE_TYPE, or undefined for scalar fields. */
  valueType?: string;
  /** For the clear marker on a multifield column: `PHONE:MOBILE`. */
  clearKey?: string;
  /**
   * Scalar fields: one value, or a list (CONTACT_IDS, multiple user fields); multifields: a list of VALUEs.
   * Undefined for plain strings: the trimmed cell is the value, there is nothing to check.
   */
  schema: z.ZodType<unknown, string> | undefined;
  address: boolean;
}

/** Problem codes in order of precedence: a row's errorCode is the first present. */
const PROBLEM_ORDER = ['CELL_TOO_LARGE', 'CONTROL_CHARACTER', 'INVALID_ID', 'INVALID_VALUE'] as const;
type ProblemCode = (typeof PROBLEM_ORDER)[number];

/** C0 controls except tab, LF, CR; DEL; C1 controls. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');
/**
 * A control character or U+FFFD, the character a decoder puts where the bytes are not text in the file's
 * encoding (a windows-1251 row in a file detected as UTF-8 from its first 64 KiB): one test per cell finds both.
 */
const SUSPECT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD]/;
const REPLACEMENT = '\uFFFD';
/** Multi-value separator inside one cell: cannot clash with the `,` `;` tab delimiters. */
const SEPARATOR = '|';
/** CONTACT_IDS also takes commas, semicolons or spaces between ids. */
const ID_LIST_SEPARATOR = /[|,;\s]+/;

/**
 * Builds the row checker for one header.
 *
 * @param columns from resolveHeader
 * @param headerLength number of header cells, including empty ones (the expected cell count)
 * @example
 * const check = compileRows(columns, options, catalogue, header.length);
 * const r = check({ line: 2, cells: ['12', 'bob@example.com'], raw: '12,bob@example.com', start: 3, end: 22 });
 * // r.ok && r.row.fields.EMAIL → [{ VALUE: 'bob@example.com', VALUE_TYPE: 'WORK' }]
 */
export function compileRows(
  columns: Column[],
  options: RowOptions,
  catalogue: Catalogue,
  headerLength: number,
): (record: SourceRecord) => RowCheck {
  void catalogue; // the columns already carry their FieldSpecs; kept for the shared signature
  const marker = options.clearMarker.trim();
  const maxBytes = options.input.maxCellBytes;
  // A UTF-16 unit is at most 3 UTF-8 bytes: shorter strings need no byte count.
  const safeLength = Math.floor(maxBytes / 3);

  const idColumn = columns.find((c) => c.code === 'ID');
  if (!idColumn) throw new Error('compileRows: the columns have no ID column (resolveHeader refuses such headers)');
  const idIndex = idColumn.index;
  const idSchema = zodFrom(idParser('a lead ID'));
  const plans = columns.filter((c) => c !== idColumn).map(planColumn);
  const hasAddress = plans.some((p) => p.address);
  const unnamed: number[] = [];
  const named = new Set(columns.map((c) => c.index));
  for (let i = 0; i < headerLength; i++) if (!named.has(i)) unnamed.push(i);
  // Cells under trailing empty header cells (Excel's trailing delimiter) may be missing from a row.
  const minCells = Math.max(...columns.map((c) => c.index)) + 1;

  const headerAt = new Map(columns.map((c) => [c.index, c.header]));

  return (record) => {
    const { line } = record;
    // A U+FEFF inside the data is a byte order mark from a second file pasted in (or a bad export): invisible,
    // never meant as text. It is removed from the values and the row says so.
    let cells = record.cells;
    let bomNotes: string[] | undefined;
    if (record.raw.includes(BOM)) [cells, bomNotes] = withoutBoms(cells, line, headerAt);
    const idCell = cells[idIndex] ?? '';

    const count = cells.length;
    if (count < minCells || (count > headerLength && !allEmpty(cells, headerLength))) {
      if (allEmpty(cells, 0)) return invalid(record, idCell, 'EMPTY_ROW', `line ${line}: the row is empty`);
      return invalid(
        record,
        idCell,
        'ROW_CELL_COUNT',
        `line ${line}: ${count} ${count === 1 ? 'cell' : 'cells'}, the header has ${headerLength}`,
      );
    }

    if (repeatsHeader(cells, columns)) {
      return invalid(record, idCell, 'INVALID_ID', `line ${line}: the header line again (two files joined together?); the row is skipped`);
    }

    let problems: Problem[] | undefined;
    let id = 0;
    if (idCell.length > safeLength || SUSPECT.test(idCell)) {
      const defect = cellDefect(idCell, maxBytes);
      if (defect) problems = add(problems, defect[0] === 'INVALID_VALUE' ? 'INVALID_ID' : defect[0], line, idColumn.header, defect[1]);
    }
    if (!problems) {
      const idText = idCell.trim();
      if (idText === '') {
        if (allEmpty(cells, 0)) return invalid(record, idCell, 'EMPTY_ROW', `line ${line}: the row is empty`);
        problems = add(problems, 'INVALID_ID', line, idColumn.header, 'the ID is empty');
      } else if (idText === marker) {
        problems = add(problems, 'INVALID_ID', line, idColumn.header, `${quote(idText)} is the clear marker; the ID cannot be cleared`);
      } else {
        const r = idSchema.safeParse(idText);
        if (r.success) id = r.data as number;
        else problems = add(problems, 'INVALID_ID', line, idColumn.header, r.error.issues[0].message);
      }
    }

    const fields: LeadFields = {};
    let clears: string[] | undefined;
    let addressSet: string[] | undefined;
    for (let p = 0; p < plans.length; p++) {
      const plan = plans[p];
      const cell = cells[plan.index];
      if (cell === undefined || cell === '') continue;
      if (cell.length > safeLength || SUSPECT.test(cell)) {
        const defect = cellDefect(cell, maxBytes);
        if (defect) {
          problems = add(problems, defect[0], line, plan.header, defect[1]);
          continue;
        }
      }
      const text = cell.trim();
      if (text === '') continue;
      if (plan.address) (addressSet ??= []).push(plan.code);
      if (text === marker) {
        if (plan.clearKey) {
          if (!(clears ??= []).includes(plan.clearKey)) clears.push(plan.clearKey);
        } else fields[plan.code] = '';
        continue;
      }
      if (plan.schema === undefined) {
        fields[plan.code] = text;
        continue;
      }
      const r = plan.schema.safeParse(text);
      if (!r.success) {
        problems = add(problems, 'INVALID_VALUE', line, plan.header, r.error.issues[0].message);
        continue;
      }
      if (plan.valueType !== undefined) {
        const list = (fields[plan.code] ??= []) as MultifieldValue[];
        for (const value of r.data as string[]) list.push({ VALUE: value, VALUE_TYPE: plan.valueType });
      } else fields[plan.code] = r.data as LeadFields[string];
    }

    if (problems) {
      const code = PROBLEM_ORDER.find((c) => problems!.some((x) => x.code === c))!;
      return invalid(record, idCell.trim(), code, problems.map((x) => x.text).join('; '));
    }

    let warnings: string[] = [];
    if (hasAddress && addressSet && addressSet.length < ADDRESS_FIELDS.length) {
      const missing = ADDRESS_FIELDS.filter((f) => !addressSet!.includes(f));
      warnings = [
        `line ${line}: partial address: ${addressSet.join(', ')} set without ${missing.join(', ')} ` +
          '(the API recommends sending all ADDRESS_* fields together)',
      ];
    }
    if (bomNotes) warnings.push(...bomNotes);
    for (const i of unnamed) {
      const cell = cells[i];
      if (cell !== undefined && cell.trim() !== '') {
        warnings.push(`line ${line}: column ${i + 1} has a value but no header; ignored`);
      }
    }
    return { ok: true, row: { line, id, fields, clears: clears ?? [], warnings, raw: record.raw } };
  };
}

interface Problem {
  code: ProblemCode;
  text: string;
}

/** Appends one problem in the documented form `line 42, EMAIL_WORK: "bob@" is not an e-mail address`. */
function add(problems: Problem[] | undefined, code: ProblemCode, line: number, header: string, text: string): Problem[] {
  const list = problems ?? [];
  list.push({ code, text: `line ${line}, ${header}: ${text}` });
  return list;
}

/**
 * A raw cell over the byte limit, holding a control character, or holding bytes that were not text in the
 * file's encoding; undefined when it is fine. The last must never reach the portal: U+FFFD would replace the
 * lead's real text for good.
 */
function cellDefect(cell: string, maxBytes: number): [ProblemCode, string] | undefined {
  const bytes = Buffer.byteLength(cell);
  if (bytes > maxBytes) return ['CELL_TOO_LARGE', `the cell is ${bytes} bytes, over the ${maxBytes}-byte limit`];
  const bad = CONTROL.exec(cell);
  if (!bad) {
    if (!cell.includes(REPLACEMENT)) return undefined;
    return [
      'INVALID_VALUE',
      `${quote(cell)} holds bytes that are not text in the file's encoding (shown as U+FFFD): if the file is a ` +
        'windows-1251 export, run with --encoding windows-1251; otherwise save it as "CSV UTF-8"',
    ];
  }
  const hex = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return ['CONTROL_CHARACTER', `${quote(cell)} contains a control character (U+${hex})`];
}

const BOM = '\uFEFF';

/** Cells without U+FEFF, and one warning per column that held one (`line 3, ID: a stray byte order mark …`). */
function withoutBoms(cells: string[], line: number, headerAt: Map<number, string>): [string[], string[]] {
  const notes: string[] = [];
  const clean = cells.map((cell, i) => {
    if (!cell.includes(BOM)) return cell;
    notes.push(
      `line ${line}, ${headerAt.get(i) ?? `column ${i + 1}`}: a stray byte order mark (U+FEFF, e.g. from a second file pasted in) was removed from the value`,
    );
    return cell.split(BOM).join('');
  });
  return [clean, notes];
}

/** Every named column holds its own header: a second file's header line inside the data. */
function repeatsHeader(cells: string[], columns: Column[]): boolean {
  for (const c of columns) if ((cells[c.index] ?? '').trim().toLowerCase() !== c.header.toLowerCase()) return false;
  return true;
}

function allEmpty(cells: string[], from: number): boolean {
  for (let i = from; i < cells.length; i++) if (cells[i].trim() !== '') return false;
  return true;
}

/** An ID cell longer than any real ID is cut in the report (the raw row stays whole in rejected.csv). */
const REPORT_ID_CHARS = 80;

function invalid(record: SourceRecord, id: string, errorCode: string, message: string): RowCheck {
  const shown = id.length > REPORT_ID_CHARS ? `${id.slice(0, REPORT_ID_CHARS).trim()}…` : id.trim();
  return {
    ok: false,
    outcome: rowOutcome({ line: record.line, id: shown, warnings: [] }, 'invalid', { errorCode, message }),
  };
}

/**
 * One cell parser → a zod schema whose issue message is the parser's reason. A `check` that rewrites the
 * value in place (as zod's own `overwrite` does) costs less than half of a `transform` pipe on this hot path.
 */
function zodFrom(parse: (v: string) => CellValue | Bad): z.ZodType<unknown, string> {
  return z.string().check((ctx) => {
    const r = parse(ctx.value);
    if (r instanceof Bad) ctx.issues.push({ code: 'custom', message: r.reason, input: ctx.value });
    else (ctx as { value: unknown }).value = r;
  });
}

/** Several values in one cell, separated by `|` (empty pieces ignored), each parsed alone. */
function listOf(parse: Parser, separator: string | RegExp = SEPARATOR): (v: string) => CellValue | Bad {
  return (v) => {
    const out: (string | number)[] = [];
    for (const piece of v.split(separator)) {
      const t = piece.trim();
      if (t === '') continue;
      const r = parse(t);
      if (r instanceof Bad) return r;
      out.push(r);
    }
    return out.length > 0 ? out : new Bad(`${quote(v)} has no value between the ${SEPARATOR} separators`);
  };
}

function planColumn(column: Column): ColumnPlan {
  const { index, header, code, spec, valueType } = column;
  const address = ADDRESS_FIELDS.includes(code);
  if (valueType !== undefined) {
    return {
      index,
      header,
      code,
      valueType,
      clearKey: `${code}:${valueType}`,
      schema: zodFrom(listOf(multifieldParser(code, valueType))),
      address,
    };
  }
  const parse = scalarParser(spec);
  // Types we do not know (money, file, crm bindings…) pass through whole, even when multiple.
  if (!spec.multiple || !SPLITTABLE.has(spec.type)) {
    return { index, header, code, schema: parse === parseString ? undefined : zodFrom(parse), address };
  }
  const list = listOf(parse, isIdType(spec.type) ? ID_LIST_SEPARATOR : SEPARATOR);
  return { index, header, code, schema: zodFrom(list), address };
}

/** Multiple fields of these types take several `|`-separated values in one cell. */
const SPLITTABLE = new Set([
  'string',
  'enumeration',
  'integer',
  'double',
  'char',
  'boolean',
  'date',
  'datetime',
  'url',
  'crm_status',
  'crm_currency',
  'user',
  'employee',
  'crm_company',
  'crm_contact',
]);

function isIdType(type: string): boolean {
  return type === 'user' || type === 'crm_company' || type === 'crm_contact' || type === 'employee';
}

const ID_NOUNS: Record<string, string> = {
  user: 'a user ID',
  employee: 'a user ID',
  crm_company: 'a company ID',
  crm_contact: 'a contact ID',
};

function scalarParser(spec: FieldSpec): Parser {
  if (spec.items && spec.items.length > 0) return enumParser(spec.items);
  switch (spec.type) {
    case 'user':
    case 'employee':
    case 'crm_company':
    case 'crm_contact':
      return idParser(ID_NOUNS[spec.type]);
    case 'integer':
      return spec.code.startsWith('UF_') ? parseInteger : idParser('an ID');
    case 'double':
      return parseDouble;
    case 'char':
      return parseChar;
    case 'boolean':
      return parseBoolean;
    case 'date':
      return parseDate;
    case 'datetime':
      return parseDateTime;
    case 'crm_status':
      return statusParser(spec.code, spec.statusCodes);
    case 'crm_currency':
      return parseCurrency;
    case 'url':
      return parseUrl;
    default:
      return parseString;
  }
}

function multifieldParser(code: string, valueType: string): Parser {
  switch (code) {
    case 'PHONE':
      return parsePhone;
    case 'EMAIL':
      return parseEmail;
    case 'WEB':
      return valueType === 'VK' || valueType === 'TWITTER' || valueType === 'LIVEJOURNAL' ? parseWebOrHandle : parseUrl;
    default:
      return parseString; // IM handles and LINK values have no common shape
  }
}

// ---- Cell parsers: one trimmed, non-empty cell → the value crm.lead.update takes, or a `Bad` reason. ----

/** A rejected cell: `reason` is the text after the column name, e.g. `"bob@" is not an e-mail address`. */
export class Bad {
  constructor(readonly reason: string) {}
}

export type Parsed = string | number;
export type Parser = (v: string) => Parsed | Bad;

export const MAX_ID = 2147483647;

/** A cell quoted for a message: one line, at most 80 characters. */
export function quote(v: string): string {
  let s = v.length > 80 ? `${v.slice(0, 79)}…` : v;
  if (s.includes('\n') || s.includes('\r')) s = s.replace(/\r\n|\r|\n/g, '\\n');
  // Messages land in report cells: show control characters, do not copy them.
  if (CONTROL.test(s)) s = s.replace(CONTROL_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return `"${s}"`;
}

const DIGITS = /^\d+$/;

/** Positive 32-bit ids (lead, user, company, contact): strict, because the portal casts "12abc" to 12. */
export function idParser(noun: string): Parser {
  return (v) => {
    if (DIGITS.test(v) && v.length <= 12) {
      const n = Number(v);
      if (n >= 1 && n <= MAX_ID) return n;
    }
    return new Bad(`${quote(v)} is not ${noun}: ${idReason(v)}`);
  };
}

function idReason(v: string): string {
  if (/^[+-]?\d+$/.test(v)) {
    if (v.startsWith('-') || /^[+-]?0+$/.test(v)) return 'IDs are positive whole numbers';
    if (v.startsWith('+')) return 'write the number without a sign';
    return `too large (the largest ID is ${MAX_ID})`;
  }
  if (/^[+-]?\d*[.,]\d+$/.test(v) || /^[+-]?\d+[.,]\d*$/.test(v)) return 'IDs are whole numbers';
  return 'not a number';
}

const INTEGER = /^[+-]?\d+$/;

/** Custom integer fields: any whole number in the safe range. */
export const parseInteger: Parser = (v) => {
  if (INTEGER.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    return new Bad(`${quote(v)} is too large for a whole number`);
  }
  return new Bad(`${quote(v)} is not a whole number`);
};

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$/;
const SPACE_GROUPED = /^[+-]?\d{1,3}(?:[ \u00A0\u202F\u2009]\d{3})+(?:[.,]\d+)?$/;
/** 1,234,567 or 1,234.56 (English Excel). A lone "1,234" is a decimal comma (Russian Excel), see PLAIN_NUMBER. */
const COMMA_GROUPED = /^[+-]?\d{1,3}(?:(?:,\d{3}){2,}(?:\.\d+)?|,\d{3}\.\d+)$/;
/** 1.234.567 or 1.234,56 (German/Russian with dot groups). */
const DOT_GROUPED = /^[+-]?\d{1,3}(?:(?:\.\d{3}){2,}(?:,\d+)?|\.\d{3},\d+)$/;

/**
 * Amounts: `1234.56`, `1234,56`, `1 234,56` (space, nbsp or narrow nbsp groups as Russian Excel writes),
 * `1,234.56`, `1.234,56`. Normalised to a number.
 */
export const parseDouble: Parser = (v) => {
  let s: string | undefined;
  if (PLAIN_NUMBER.test(v)) s = v.includes(',') ? v.replace(',', '.') : v;
  else if (SPACE_GROUPED.test(v)) s = v.replace(/[ \u00A0\u202F\u2009]/g, '').replace(',', '.');
  else if (COMMA_GROUPED.test(v)) s = v.replace(/,/g, '');
  else if (DOT_GROUPED.test(v)) s = v.replace(/\./g, '').replace(',', '.');
  if (s !== undefined) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  return new Bad(`${quote(v)} is not a number`);
};

const YES = new Set(['y', 'yes', 'true', '1', 'да']);
const NO = new Set(['n', 'no', 'false', '0', 'нет']);

/** char Y/N fields: y/n, yes/no, true/false, 1/0 (any case) → Y/N. */
export const parseChar: Parser = (v) => {
  if (v === 'Y' || v === 'N') return v;
  const l = v.toLowerCase();
  if (YES.has(l)) return 'Y';
  if (NO.has(l)) return 'N';
  return new Bad(`${quote(v)} is not Y or N (also accepted: yes/no, true/false, 1/0)`);
};

/** Custom boolean fields: the same spellings → 1/0, as user fields store them. */
export const parseBoolean: Parser = (v) => {
  const l = v.toLowerCase();
  if (YES.has(l)) return 1;
  if (NO.has(l)) return 0;
  return new Bad(`${quote(v)} is not yes or no (accepted: Y/N, yes/no, true/false, 1/0)`);
};

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const RU_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 1 || m < 1 || m > 12 || d < 1) return undefined;
  const days = m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  if (d > days) return undefined;
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** Split a date cell into y/m/d (ISO or DD.MM.YYYY), without checking the calendar. */
function dateParts(v: string): [number, number, number] | undefined {
  let m = ISO_DATE.exec(v);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  m = RU_DATE.exec(v);
  if (m) return [Number(m[3]), Number(m[2]), Number(m[1])];
  return undefined;
}

/** `date` fields: YYYY-MM-DD or DD.MM.YYYY → YYYY-MM-DD; impossible dates (2023-02-30) are refused. */
export const parseDate: Parser = (v) => {
  const parts = dateParts(v);
  if (!parts) return new Bad(`${quote(v)} is not a date (YYYY-MM-DD or DD.MM.YYYY)`);
  return isoDate(...parts) ?? new Bad(`${quote(v)} is not a real date`);
};

const DATETIME = /^(\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `datetime` fields: ISO 8601 (offset optional), `YYYY-MM-DD HH:MM[:SS]` or `DD.MM.YYYY HH:MM[:SS]`, or a
 * date alone → `YYYY-MM-DDTHH:MM:SS[±HH:MM]` (no offset: the portal's time zone applies).
 */
export const parseDateTime: Parser = (v) => {
  const m = DATETIME.exec(v);
  const parts = m ? dateParts(m[1]) : undefined;
  if (!m || !parts) return new Bad(`${quote(v)} is not a date and time (YYYY-MM-DDTHH:MM:SS+03:00 or DD.MM.YYYY HH:MM)`);
  const date = isoDate(...parts);
  if (!date) return new Bad(`${quote(v)} is not a real date`);
  if (m[2] === undefined) return date;
  const [h, min, sec] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (h > 23 || min > 59 || sec > 59) return new Bad(`${quote(v)} is not a real time of day`);
  let offset = m[5] ?? '';
  if (offset === 'Z') offset = '+00:00';
  else if (offset.length === 5) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${date}T${two(h)}:${two(min)}:${two(sec)}${offset}`;
};

/** crm_currency: three letters → upper case. */
export const parseCurrency: Parser = (v) => {
  if (/^[A-Za-z]{3}$/.test(v)) return v.toUpperCase();
  return new Bad(`${quote(v)} is not a currency code (three letters, e.g. RUB, USD, EUR)`);
};

const STATUS_CODE = /^[A-Za-z0-9_.:-]+$/;
/** Lists longer than this are cut in messages. */
const LIST_MAX = 30;

function listed(values: readonly string[]): string {
  return values.length > LIST_MAX ? `${values.slice(0, LIST_MAX).join(', ')}, … (${values.length} in all)` : values.join(', ');
}

/**
 * crm_status (STATUS_ID, SOURCE_ID, HONORIFIC). With the portal's codes: one of them (any case → the portal's
 * spelling). Without: any code-like text (names with spaces are refused: the portal wants codes).
 */
export function statusParser(code: string, codes: readonly string[] | undefined): Parser {
  if (!codes) {
    return (v) => (STATUS_CODE.test(v) ? v : new Bad(`${quote(v)} is not a ${code} code (codes look like NEW, IN_PROCESS, UC_1A2B3C)`));
  }
  const exact = new Set(codes);
  const folded = new Map(codes.map((c) => [c.toUpperCase(), c]));
  return (v) => {
    if (exact.has(v)) return v;
    const known = folded.get(v.toUpperCase());
    if (known !== undefined) return known;
    return new Bad(
      `${quote(v)} is not a known ${code}; ${codes.length ? `allowed: ${listed(codes)}` : 'the portal lists no codes for it'}`,
    );
  };
}

/** Enumeration fields with known items: the item ID or its label (any case) → the ID. */
export function enumParser(items: readonly { ID: string; VALUE: string }[]): Parser {
  const ids = new Set(items.map((i) => String(i.ID)));
  const labels = new Map<string, string>();
  for (const item of items) if (!labels.has(item.VALUE.trim().toLowerCase())) labels.set(item.VALUE.trim().toLowerCase(), String(item.ID));
  const allowed = listed(items.map((i) => `${i.VALUE} (${i.ID})`));
  return (v) => {
    if (ids.has(v)) return v;
    return labels.get(v.toLowerCase()) ?? new Bad(`${quote(v)} is not one of the allowed values: ${allowed}`);
  };
}

export const parseString: Parser = (v) => v;

const PHONE_CHARS = /^\+?[0-9 \u00A0\-().]+$/;

/** Digits with an optional leading +, spaces, dashes, parentheses, dots; 5–15 digits. Sent as written. */
export const parsePhone: Parser = (v) => {
  if (PHONE_CHARS.test(v)) {
    let digits = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits >= 5 && digits <= 15) return v;
    return new Bad(`${quote(v)} is not a phone number (${digits} digits; a phone number has 5 to 15)`);
  }
  return new Bad(`${quote(v)} is not a phone number (digits with an optional leading +, spaces, dashes, parentheses, dots)`);
};

const EMAIL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{}~.-]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}\p{N}-]*\p{L}[\p{L}\p{N}-]*$/u;

export const parseEmail: Parser = (v) => {
  if (EMAIL.test(v)) {
    const at = v.indexOf('@');
    if (v[0] !== '.' && v[at - 1] !== '.' && !v.includes('..')) return v;
  }
  return new Bad(`${quote(v)} is not an e-mail address`);
};

const HOST = String.raw`(?:(?:[\p{L}\p{N}](?:[\p{L}\p{N}_-]*[\p{L}\p{N}])?\.)+\p{L}[\p{L}\p{N}-]*\.?|\d{1,3}(?:\.\d{1,3}){3}|localhost)`;
const URL_RE = new RegExp(String.raw`^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^\s/?#@]+@)?${HOST}(?::\d{1,5})?(?:[/?#]\S*)?$`, 'u');

/** A plausible URL or bare domain (`https://example.com/x`, `www.example.com`, `example.ru`). */
export const parseUrl: Parser = (v) => (URL_RE.test(v) ? v : new Bad(`${quote(v)} is not a web address (a URL or a domain)`));

/** Social WEB types (VK, TWITTER, LIVEJOURNAL) may hold a handle instead of a URL. */
export const parseWebOrHandle: Parser = (v) =>
  URL_RE.test(v) || /^@?[\p{L}\p{N}_.-]+$/u.test(v) ? v : new Bad(`${quote(v)} is not a web address or a handle`);
