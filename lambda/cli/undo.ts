import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { FsStore } from '../stores/fsStore.ts';
import { UNDO_RUN_OPTIONS, undoInput } from '../undo/undoInput.ts';
import { readRunLog } from '../undo/runLog.ts';
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
  const log = s3 ? await readS3Log(s3, parsed.file) : await readRunLog(new FsStore(folder), '', parsed.file);
  if ('problem' in log) return log;
  const jsonl = log.jsonl;
  let input: ReturnType<typeof undoInput>;
  try {
    input = undoInput(jsonl);
  } catch (e) {
    return { problem: `${parsed.file}: ${(e as Error).message}` };
  }
  const out = resolve(cwd, parsed.out ?? `${folder.replace(/[/\\]+$/, '')}-undo`);
  await mkdir(out, { recursive: true });
  const file = join(out, UNDO_INPUT_FILE);
  await writeFile(file, Readable.from(input.lines()));
  return { file, out, options: { ...parsed.options, ...UNDO_RUN_OPTIONS } };
}

/** The log of a run in S3 (s3://bucket/reports/<file>/<run>/), read with the CLI's credentials. */
async function readS3Log(at: { bucket: string; key: string }, given: string): ReturnType<typeof readRunLog> {
  const { S3Store } = await import('../stores/s3Store.ts');
  const prefix = at.key === '' || at.key.endsWith('/') ? at.key : `${at.key}/`;
  return readRunLog(new S3Store(cliS3Client(), at.bucket), prefix, given);
}
