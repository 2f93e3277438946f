import { ADDRESS_FIELDS } from './fields.ts';
import type { Column } from './header.ts';

/**
 * Rows with some ADDRESS_* parts but not all, counted for the run's one file warning (instead of one warning on
 * every row). Plain data, so a run can keep it in its checkpoint and add the counts of its chunks.
 */
export interface AddressTally {
  rows: number;
  /** The first such row and the parts it left out. */
  firstLine?: number;
  missing?: string[];
  /**
   * The last line looked at: a row read again by a later chunk (deferred at a deadline) was counted already.
   * Rows are compiled in line order, so a high-water mark is enough.
   */
  lastLine?: number;
}

/** A fresh tally. */
export function addressTally(): AddressTally {
  return { rows: 0 };
}

/** Counts one row's address parts when they are not all there. */
export function countPartialAddress(tally: AddressTally, line: number, set: readonly string[]): void {
  if (set.length >= ADDRESS_FIELDS.length) return;
  tally.rows++;
  if (tally.firstLine === undefined) {
    tally.firstLine = line;
    tally.missing = ADDRESS_FIELDS.filter((f) => !set.includes(f));
  }
}

/** Two chunks' tallies as one (the earlier chunk's first row stays first). */
export function addTallies(a: AddressTally, b: AddressTally): AddressTally {
  return a.firstLine !== undefined ? { ...a, rows: a.rows + b.rows } : { ...b, rows: a.rows + b.rows };
}

/** The one file warning, or undefined when no row set a partial address. */
export function partialAddressNotice(tally: AddressTally): string | undefined {
  if (tally.rows === 0) return undefined;
  const rows = tally.rows === 1 ? '1 row' : `${tally.rows} rows`;
  return (
    `partial address on ${rows} (first: line ${tally.firstLine}, without ${(tally.missing ?? []).join(', ')}): ` +
    'the portal keeps the address parts a row does not send'
  );
}

const FULL_CHECK = 'set the webhook for a full check';

/**
 * The warnings of a valid row: a partial address (counted in `tally` when the run keeps one, else on the row),
 * stray byte order marks removed (`bomNotes`), values under columns with no header, and, offline, the values the
 * built-in list could not check (status codes, currencies, custom fields). Built once per header.
 */
export function rowWarner(
  columns: Column[],
  headerLength: number,
  tally?: AddressTally,
): (
  cells: readonly string[],
  line: number,
  addressSet: readonly string[] | undefined,
  bomNotes: readonly string[] | undefined,
) => string[] {
  const named = new Set(columns.map((c) => c.index));
  const unnamed: number[] = [];
  for (let i = 0; i < headerLength; i++) if (!named.has(i)) unnamed.push(i);
  const unchecked = columns.filter((c) => c.unchecked !== undefined);
  return (cells, line, addressSet, bomNotes) => {
    const warnings: string[] = [];
    if (tally) {
      if (addressSet && line > (tally.lastLine ?? 0)) countPartialAddress(tally, line, addressSet);
      tally.lastLine = Math.max(tally.lastLine ?? 0, line);
    } else if (addressSet && addressSet.length < ADDRESS_FIELDS.length) {
      const missing = ADDRESS_FIELDS.filter((f) => !addressSet.includes(f));
      warnings.push(
        `line ${line}: partial address: ${addressSet.join(', ')} set without ${missing.join(', ')} ` +
          '(the API recommends sending all ADDRESS_* fields together)',
      );
    }
    if (bomNotes) warnings.push(...bomNotes);
    for (const i of unnamed) {
      const cell = cells[i];
      if (cell !== undefined && cell.trim() !== '') warnings.push(`line ${line}: column ${i + 1} has a value but no header; ignored`);
    }
    const notChecked = unchecked.filter((c) => (cells[c.index] ?? '').trim() !== '').map((c) => c.unchecked);
    if (notChecked.length > 0) warnings.push(`line ${line}: not checked offline: ${notChecked.join(', ')} (${FULL_CHECK})`);
    return warnings;
  };
}
