import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { RunOptions } from '../config.ts';
import { FileRefusedError } from '../errors.ts';
import { ENCRYPTED_MESSAGE, workbookKind, workbookTooBig, XLSX_MAX_XML_BYTES } from '../source/workbookKind.ts';
import { FsStore } from '../stores/fsStore.ts';
import { pinOf, readUpTo } from '../stores/objectBytes.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';

/** An .xlsx input turned into the CSV the run reads instead (or into its refusal). */
export interface StagedWorkbook {
  /** Holds the CSV under the input's own key, so the reports name the file the user gave. */
  source: ObjectStore;
  info: ObjectInfo;
  /** The converted file is read as UTF-8 with commas, whatever --encoding/--delimiter said for a CSV. */
  options: RunOptions;
  /** Removes the converted copy (the user's leads must not stay in the temp folder). */
  close(): Promise<void>;
}

/** The first bytes tell a workbook (ZIP, OLE) from a CSV without reading a CSV whole. */
const MAGIC_BYTES = 8;
/** An OLE file (.xls, or an encrypted workbook) bigger than this is left to the run's .xls refusal unread. */
const MAX_OLE_BYTES = 64 * 1024 * 1024;

/**
 * When `key` in `store` is an .xlsx workbook (or a password-protected one), its first sheet as a CSV in a temp
 * folder, ready for the run; undefined for anything else, which the run reads (or refuses) as it always has.
 * A workbook over --max-bytes is left to the run too: it refuses it FILE_TOO_LARGE before reading.
 * A workbook refused here (encrypted, empty, too many rows…) becomes a source whose reads throw that refusal,
 * so the run reports it as it reports a refused CSV (summary.json, exit 2).
 */
export async function stageWorkbook(store: ObjectStore, info: ObjectInfo, options: RunOptions): Promise<StagedWorkbook | undefined> {
  if (info.size > options.input.maxBytes) return undefined;
  const pin = pinOf(info);
  const head = await readUpTo(store, info.key, pin, MAGIC_BYTES);
  const container = containerOf(head);
  if (container === undefined || (container === 'ole' && info.size > MAX_OLE_BYTES)) return undefined;
  const csvOptions: RunOptions = { ...options, encoding: 'utf-8', delimiter: ',' };
  if (container === 'zip' && info.size > XLSX_MAX_XML_BYTES) {
    return refused(info, csvOptions, workbookTooBig({ file: info.size }));
  }
  const bytes = await readUpTo(store, info.key, pin, info.size);
  const kind = workbookKind(bytes);
  if (kind === undefined) return undefined;
  if (kind === 'encrypted') return refused(info, csvOptions, new FileRefusedError('XLSX_ENCRYPTED', ENCRYPTED_MESSAGE));
  let csv: Readable;
  try {
    // Loaded only for a workbook: a CSV run (and --help) never pays for the reader.
    const { xlsxToCsv } = await import('../source/xlsxCsv.ts');
    csv = await xlsxToCsv(bytes, options.input);
  } catch (err) {
    if (err instanceof FileRefusedError) return refused(info, csvOptions, err);
    throw err;
  }
  return writeStaged(info.key, csv, csvOptions);
}

function containerOf(head: Buffer): 'zip' | 'ole' | undefined {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  if (head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0) return 'ole';
  return undefined;
}

/** The CSV in a fresh temp folder under `key`; a sheet that turns out over --max-bytes while written is refused. */
async function writeStaged(key: string, csv: Readable, options: RunOptions): Promise<StagedWorkbook> {
  const dir = await mkdtemp(join(tmpdir(), 'b24-xlsx-'));
  const close = forgetOnClose(dir);
  try {
    const source = new FsStore(dir);
    await mkdir(dirname(source.pathOf(key)), { recursive: true });
    await source.write(key, csv, 'text/csv');
    return { source, info: await source.head(key), options, close };
  } catch (err) {
    await close();
    if (err instanceof FileRefusedError) return refused({ key, size: 0 }, options, err);
    throw err;
  }
}

/** Temp folders still to remove; a process that ends without close() removes them on exit. */
const pending = new Set<string>();
let exitHook = false;

function forgetOnClose(dir: string): () => Promise<void> {
  pending.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of pending) rmSync(d, { recursive: true, force: true });
    });
  }
  return async () => {
    pending.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };
}

/** A source that refuses the workbook when the run opens it: the run's own refusal path reports it. */
function refused(info: ObjectInfo, options: RunOptions, err: FileRefusedError): StagedWorkbook {
  const source: ObjectStore = {
    label: 'workbook',
    head: async () => info,
    read: async () => {
      throw err;
    },
    write: async () => {
      throw new Error('a refused workbook is read-only');
    },
    list: async () => [],
    remove: async () => {},
  };
  // A size of at least 1: the run checks for an empty file before it reads.
  return { source, info: { key: info.key, size: Math.max(1, info.size) }, options, close: async () => {} };
}
