import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CHANGES_JSON_FILE } from '../report/changeFiles.ts';
import { SUMMARY_FILE } from '../report/lines.ts';
import { undoInput } from '../undo/undoInput.ts';
import type { Parsed } from './parse.ts';

/** Where an undo's input goes: in its own report folder, under a name no report file has. */
export const UNDO_INPUT_FILE = 'undo-input.csv';

/**
 * `b24-lead-import undo <report folder>`: the run to take back is the folder's change log (changes.jsonl).
 * The undo's input (one row per lead) is written into the undo's own report folder (default `<folder>-undo/`),
 * and the undo runs from it like any file: the same flags, pacing, resume and report, and its own change log.
 *
 * @returns the command line of that run, or why there is nothing to undo
 */
export async function prepareUndo(parsed: Parsed, cwd: string): Promise<Parsed | { problem: string }> {
  const folder = resolve(cwd, parsed.file);
  let jsonl: string;
  try {
    jsonl = await readFile(join(folder, CHANGES_JSON_FILE), 'utf8');
  } catch (e) {
    return { problem: await whyNoLog(folder, parsed.file, e as NodeJS.ErrnoException) };
  }
  let input: ReturnType<typeof undoInput>;
  try {
    input = undoInput(jsonl);
  } catch (e) {
    return { problem: `${parsed.file}: ${(e as Error).message}` };
  }
  const out = resolve(cwd, parsed.out ?? `${folder.replace(/[/\\]+$/, '')}-undo`);
  await mkdir(out, { recursive: true });
  const file = join(out, UNDO_INPUT_FILE);
  await writeFile(file, input.csv);
  // An undo reads the leads first, always: it puts back a value only where the lead still holds the run's.
  return { file, out, options: { ...parsed.options, undo: true, diff: true } };
}

async function whyNoLog(folder: string, given: string, e: NodeJS.ErrnoException): Promise<string> {
  if (e.code !== 'ENOENT') return `cannot read ${given}/${CHANGES_JSON_FILE}: ${e.code ?? e.message}`;
  try {
    const summary = JSON.parse(await readFile(join(folder, SUMMARY_FILE), 'utf8')) as { changeLog?: boolean; dryRun?: boolean };
    if (summary.changeLog === false) {
      return `${given}: that run has no change log (${summary.dryRun ? 'a dry run' : 'it ran with --no-diff, which reads nothing'}), so it cannot be undone`;
    }
  } catch {
    // no summary either: not a report folder
  }
  return `${given} is not a run's report folder with a change log (${CHANGES_JSON_FILE})`;
}
