import { ADDRESS_FIELDS } from './fields.ts';
import type { Column } from './header.ts';

/**
 * The warnings of a valid row: a partial address, stray byte order marks removed (`bomNotes`), values under
 * columns with no header. Built once per header.
 */
export function rowWarner(
  columns: Column[],
  headerLength: number,
): (
  cells: readonly string[],
  line: number,
  addressSet: readonly string[] | undefined,
  bomNotes: readonly string[] | undefined,
) => string[] {
  const named = new Set(columns.map((c) => c.index));
  const unnamed: number[] = [];
  for (let i = 0; i < headerLength; i++) if (!named.has(i)) unnamed.push(i);
  return (cells, line, addressSet, bomNotes) => {
    const warnings: string[] = [];
    if (addressSet && addressSet.length < ADDRESS_FIELDS.length) {
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
    return warnings;
  };
}
