import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CHANGES_JSON_FILE } from '../report/changeFiles.ts';
import { SUMMARY_FILE } from '../report/lines.ts';
import { undoInput } from '../undo/undoInput.ts';
import type { Parsed } from './parse.ts';
import { cliS3Client, parseS3Url } from './s3Source.ts';

/** Where an undo's input goes: in its own report folder, under a name no report file has. */
export const UNDO_INPUT_FILE = 'undo-input.csv';

/**
 * `b24-lead-import undo <report folder | s3://bucket/reports/…/<run>/>`: the run to take back is the folder's
 * change log (changes.jsonl).
 * The undo's input (one row per lead) is written into the undo's own report folder (default `<folder>-undo/`),
 * and the undo runs from it like any file: the same flags, pacing, resume and report, and its own change log.
 *
 * @returns the command line of that run, or why there is nothing to undo
 */
export async function prepareUndo(parsed: Parsed, cwd: string): Promise<Parsed | { problem: string }> {
  const s3 = parseS3Url(parsed.file);
  // A run in S3 (s3://bucket/reports/<file>/<run>/): its log is read from there, the undo reports to a local folder.
  const folder = s3 ? resolve(cwd, basename(s3.key.replace(/\/+$/, '')) || 'run') : resolve(cwd, parsed.file);
  let jsonl: string;
  try {
    jsonl = s3 ? await readS3Log(s3) : await readFile(join(folder, CHANGES_JSON_FILE), 'utf8');
  } catch (e) {
    if (s3)
      return {
        problem: `cannot read ${parsed.file.replace(/\/*$/, '/')}${CHANGES_JSON_FILE}: ${(e as Error).name}: ${(e as Error).message}`,
      };
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

async function readS3Log(at: { bucket: string; key: string }): Promise<string> {
  const { S3Store } = await import('../stores/s3Store.ts');
  const store = new S3Store(cliS3Client(), at.bucket);
  const prefix = at.key === '' || at.key.endsWith('/') ? at.key : `${at.key}/`;
  const chunks: Buffer[] = [];
  for await (const c of await store.read(`${prefix}${CHANGES_JSON_FILE}`)) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
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
