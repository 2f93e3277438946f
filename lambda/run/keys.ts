/**
 * Where a run's objects live in the bucket. Kept apart from the handlers and the engine so the CLI and the
 * start Lambda can name these keys without loading either.
 */

/** Uploads under this prefix start a run. */
export const INCOMING = 'incoming/';

/** reports/<key without incoming/>/<runId>/ */
export function reportPrefixFor(key: string, runId: string): string {
  return `reports/${key.slice(INCOMING.length)}/${runId}/`;
}

/** parts/<runId>/: the chunks' report parts, until finalize joins them. */
export function partsPrefixFor(runId: string): string {
  return `parts/${runId}/`;
}

/** The kinds of part a chunk writes; `plan` only when rows go through a sender (what each row changes). */
export type PartKind = 'report' | 'rejected' | 'plan';

/** Key of a chunk's report part (and, with `.rejected.csv`, its rejected part). */
export function partKey(partsPrefix: string, part: number, kind: PartKind): string {
  return `${partsPrefix}${String(part).padStart(6, '0')}.${kind}.csv`;
}
