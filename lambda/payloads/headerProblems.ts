import { FileRefusedError } from '../errors.ts';

/** Refusal codes, most important first: one refusal carries the first code present. */
const CODE_ORDER = ['MISSING_ID_COLUMN', 'MISSING_KEY_COLUMN', 'UNKNOWN_COLUMN', 'READ_ONLY_COLUMN', 'DUPLICATE_COLUMN'] as const;
export type RefusalCode = (typeof CODE_ORDER)[number];

/** One reason the header is refused. */
export interface HeaderProblem {
  code: RefusalCode;
  /** The header cell as written ('' for the missing ID column); for a mapping problem, the mapping's key. */
  header: string;
  /** Column position, -1 when the problem is not one column's (a mapping target, the missing ID). */
  index: number;
  /** The problem's own detail (a suggestion, what it duplicates), '' when the group's heading says it all. */
  text: string;
  /** The field code when the header names it otherwise (`Created` → DATE_CREATE). */
  field?: string;
  /** A mapping entry's target (the problem is the mapping's, not a column's). */
  mapping?: string;
  /** An Open Channel binding column. */
  binding?: boolean;
}

/** A column read past: not written, named once in the run's warning. */
export interface SkippedColumn {
  index: number;
  header: string;
  /** Why, as the warning groups it: 'unknown', 'read-only', 'mapped to null in the mapping file'… */
  reason: string;
  field?: string;
}

/** Each group's heading says once what every line under it would otherwise repeat. */
const HEADINGS: Record<RefusalCode, string> = {
  MISSING_ID_COLUMN:
    'no ID column: the header must name the lead ID column "ID" (or find leads by another column: --match EMAIL, PHONE or a custom field)',
  MISSING_KEY_COLUMN: 'no key column:',
  UNKNOWN_COLUMN:
    'unknown columns (not crm.lead.update fields: fix the name, map it in the mapping file, or remove the column; ' +
    '--ignore-unknown skips unknown and read-only columns):',
  READ_ONLY_COLUMN: 'read-only columns (the portal sets them: remove the column, or --ignore-unknown skips it):',
  DUPLICATE_COLUMN: 'duplicate columns (one column per field; remove or rename the later one):',
};

/** The refusal stays readable and bounded: a hostile header must not make a megabyte message (it lands in the run state). */
const MAX_MESSAGE = 6000;
const MAX_SHOWN = 80;

/**
 * Every problem, one per line, grouped by kind in the order of CODE_ORDER, each with its own suggestion; the code
 * is the most important kind present. Lines stop only at MAX_MESSAGE characters ("… and N more problems").
 */
export function headerRefusal(problems: readonly HeaderProblem[]): FileRefusedError {
  const code = CODE_ORDER.find((c) => problems.some((p) => p.code === c))!;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const lines = [`header refused: ${count}`];
  let size = lines[0].length;
  let listed = 0;
  outer: for (const kind of CODE_ORDER) {
    const group = problems.filter((p) => p.code === kind);
    if (group.length === 0) continue;
    lines.push(HEADINGS[kind]);
    if (kind === 'MISSING_ID_COLUMN') {
      listed += group.length;
      continue;
    }
    if (kind === 'MISSING_KEY_COLUMN') {
      lines.push(...group.map((p) => `  ${p.text}`));
      listed += group.length;
      continue;
    }
    for (const p of group) {
      const line = `  ${problemLine(p)}`;
      if (size + line.length > MAX_MESSAGE) break outer;
      lines.push(line);
      size += line.length + 1;
      listed++;
    }
  }
  if (listed < problems.length) lines.push(`… and ${problems.length - listed} more problems`);
  return new FileRefusedError(code, lines.join('\n'));
}

/** `"TITEL" (column 1): did you mean TITLE?`, `mapping "Phone" → "PHONE_CELL": did you mean PHONE_MOBILE?` */
function problemLine(p: HeaderProblem): string {
  const detail = p.text ? `: ${p.text}` : '';
  if (p.mapping !== undefined) return `mapping ${shown(p.header)} → ${shown(p.mapping)}${detail}`;
  const field = p.field && p.header.toUpperCase() !== p.field ? `, ${p.field}` : '';
  return `${shown(p.header)} (column ${p.index + 1}${field})${detail}`;
}

/**
 * The one warning for the columns a run reads past, each named once, grouped by reason:
 * `2 columns skipped (not written): read-only: "Created" (column 5, DATE_CREATE); unknown: "Tags" (column 7)`.
 */
export function skippedNotice(skipped: readonly SkippedColumn[]): string | undefined {
  if (skipped.length === 0) return undefined;
  const byReason = new Map<string, Map<string, { columns: number[]; field?: string }>>();
  for (const s of [...skipped].sort((a, b) => a.index - b.index)) {
    const group = byReason.get(s.reason) ?? new Map<string, { columns: number[]; field?: string }>();
    const entry = group.get(s.header) ?? { columns: [], field: s.field };
    entry.columns.push(s.index + 1);
    group.set(s.header, entry);
    byReason.set(s.reason, group);
  }
  const parts = [...byReason].map(([reason, group]) => {
    const names = [...group].map(([header, { columns, field }]) => {
      const where = `${columns.length > 1 ? 'columns' : 'column'} ${columns.join(', ')}`;
      return `${shown(header)} (${where}${field && header.toUpperCase() !== field ? `, ${field}` : ''})`;
    });
    return `${reason}: ${names.join(', ')}`;
  });
  const n = skipped.length;
  const text = `${n} ${n === 1 ? 'column' : 'columns'} skipped (not written): ${parts.join('; ')}`;
  // Thousands of skipped columns must not make a megabyte warning.
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

/** A header cell as messages quote it: at most 80 characters, control characters shown as \uXXXX, never copied. */
export function shown(s: string): string {
  const cut = s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
  const safe = cut.replace(/[\u0000-\u001F\u007F-\u009F]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return `"${safe}"`;
}
