import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { RunOptions } from '../config.ts';
import { newRunState } from '../run/drive.ts';
import type { RunState } from '../run/state.ts';
import { FsStore } from '../stores/fsStore.ts';
import type { ObjectStore } from '../stores/store.ts';
import { defaultOutDir, outputClash } from './outDir.ts';
import type { Parsed } from './parse.ts';
import { openS3Source, parseS3Url } from './s3Source.ts';
import { stageWorkbook } from './workbookInput.ts';

/** Where a run reads and writes, resolved against the working folder. */
export interface Target {
  /** The input as given on the command line, for messages. */
  given: string;
  /** The --out folder as given, if any. */
  out?: string;
  /** An s3:// URL as given, or the absolute path of a local file. */
  file: string;
  s3: boolean;
  /** The absolute report folder; '' when an S3 run reports back to its bucket. */
  outDir: string;
}

export function resolveTarget(parsed: Parsed, cwd: string): Target {
  const s3 = parseS3Url(parsed.file) !== undefined;
  const file = s3 ? parsed.file : resolve(cwd, parsed.file);
  const outDir = s3 && !parsed.out ? '' : resolve(cwd, parsed.out ?? defaultOutDir(file));
  return { given: parsed.file, ...(parsed.out !== undefined ? { out: parsed.out } : {}), file, s3, outDir };
}

/** Why a local input cannot run (not a readable file, or its report would overwrite it); undefined if it can. */
export async function localInputProblem(target: Target): Promise<string | undefined> {
  try {
    const st = await stat(target.file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
  } catch (e) {
    return `cannot read ${target.given}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const clash = outputClash(target.file, target.outDir);
  if (clash === undefined) return undefined;
  return `--out ${target.out ?? target.outDir}: the run would overwrite the input file with its ${clash}; choose another --out folder`;
}

/** What a run reads from and reports to, its fresh state, and how to print where a report file landed. */
export interface RunInput {
  source: ObjectStore;
  output: ObjectStore;
  state: RunState;
  where(key: string): string;
  /** Ends what opening the input started (an .xlsx input's converted CSV is removed); call once the run ends. */
  close?(): Promise<void>;
}

/**
 * A local file: its folder is the source, the report goes to the out folder. An .xlsx workbook is read as the CSV
 * of its first sheet (cli/workbookInput.ts), under the workbook's own name.
 */
export async function openLocalInput(target: Target, options: RunOptions): Promise<RunInput> {
  const folder = new FsStore(dirname(target.file));
  const output = new FsStore(target.outDir);
  const found = await folder.head(basename(target.file));
  const staged = await stageWorkbook(folder, found, options);
  const info = staged?.info ?? found;
  const state = newRunState({
    source: { bucket: '', ...info },
    reportPrefix: '',
    partsPrefix: '.parts/',
    options: staged?.options ?? options,
  });
  return { source: staged?.source ?? folder, output, state, where: (key) => join(target.outDir, key), ...closing(staged) };
}

const closing = (staged: { close(): Promise<void> } | undefined) => (staged ? { close: () => staged.close() } : {});

/**
 * s3://bucket/key: read from S3 (standard SDK settings), report back to the same bucket under reports/, or to
 * the --out folder when one is given. Throws what the SDK throws when the object cannot be headed.
 */
export async function openS3Input(target: Target, options: RunOptions): Promise<RunInput> {
  const s3 = await openS3Source(target.file);
  const toFolder = Boolean(target.out);
  const prefixes = toFolder ? { reportPrefix: '', partsPrefix: '.parts/' } : s3;
  // An .xlsx object is converted to a local CSV; the run id and the report still belong to the S3 object.
  const staged = await stageWorkbook(s3.source, s3.info, options);
  const state = newRunState({
    runId: s3.runId,
    source: { bucket: s3.bucket, ...(staged?.info ?? s3.info) },
    reportPrefix: prefixes.reportPrefix,
    partsPrefix: prefixes.partsPrefix,
    options: staged?.options ?? options,
  });
  return {
    source: staged?.source ?? s3.source,
    output: toFolder ? new FsStore(target.outDir) : s3.output,
    state,
    where: toFolder ? (key) => join(target.outDir, key) : s3.where,
    ...closing(staged),
  };
}
