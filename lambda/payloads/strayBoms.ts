/**
 * A U+FEFF inside the data is a byte order mark from a second file pasted in (or a bad export): invisible,
 * never meant as text. It is removed from the values and the row says so.
 */
export const BOM = '\uFEFF';

/** Cells without U+FEFF, and one warning per column that held one (`line 3, ID: a stray byte order mark …`). */
export function withoutBoms(cells: string[], line: number, headerAt: ReadonlyMap<number, string>): [string[], string[]] {
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
