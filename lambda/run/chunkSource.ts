import { CsvCutShortError, FileRefusedError } from '../errors.ts';
import { lineAfter, readRecordBatches, type RecordFormat } from '../rows/records.ts';
import type { Readable } from 'node:stream';
import { detectFormat, HEAD_BYTES } from '../source/format.ts';
import { WORKBOOK_CSV_FORMAT, workbookCsv } from '../source/workbookCsv.ts';
import { pinOf, readUpTo } from '../stores/objectBytes.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';
import type { SourceRecord } from '../types.ts';
import type { Checkpoint, RunState } from './state.ts';

/** A chunk's records, from its checkpoint on. */
export interface ChunkSource {
  format: RecordFormat;
  batches: AsyncIterator<SourceRecord[]>;
  /** Records already read past the header (first chunk), to be taken before `batches`. */
  carry: SourceRecord[];
  /** Where the chunk's first record starts: the checkpoint's position, or just past the header. */
  offset: number;
  line: number;
}

type Pin = Pick<ObjectInfo, 'etag' | 'versionId'> | undefined;

const emptyFile = () => new FileRefusedError('EMPTY_FILE', 'the file is empty: there is not even a header line');

/** Where an .xlsx source's first sheet is kept as CSV: beside the run's parts, so finalize removes it with them. */
export function stagedKeyFor(partsPrefix: string): string {
  return `${partsPrefix}source.csv`;
}

/**
 * Opens the source where the checkpoint stopped. On the first chunk it refuses a file too large or empty,
 * converts an .xlsx workbook's first sheet to CSV in `staging` (recorded in `cp.staged`; this and every later
 * chunk read that copy), detects the format and reads the header, and records both in `cp` (later chunks read
 * from the middle). A refused file throws FileRefusedError; the stream is closed on any failure.
 * `staging` is where the run's parts are (default: the source's store, the same bucket in a deployment).
 */
export async function openChunkSource(
  state: RunState,
  cp: Checkpoint,
  store: ObjectStore,
  staging: ObjectStore = store,
): Promise<ChunkSource> {
  const { options } = state;
  let offset = cp.offset;
  let line = cp.line;
  if (!cp.header) {
    const size = state.source.size;
    if (size > options.input.maxBytes) {
      throw new FileRefusedError(
        'FILE_TOO_LARGE',
        `the file is ${size} bytes, over the ${options.input.maxBytes}-byte limit (--max-bytes)`,
      );
    }
    if (size === 0) throw emptyFile();
    const pin = pinOf(state.source);
    let head = await readHead(store, state.source.key, pin);
    const csv = await workbookCsv(head, size, () => readUpTo(store, state.source.key, pin, size), options.input);
    if (csv) {
      cp.staged = await stage(staging, stagedKeyFor(state.partsPrefix), csv);
      head = await readHead(staging, cp.staged.key, { etag: cp.staged.etag });
    }
    const f = detectFormat(head, cp.staged ? { ...options, ...WORKBOOK_CSV_FORMAT } : options);
    cp.format = { encoding: f.encoding, delimiter: f.delimiter, bom: f.bomLength > 0 };
    offset = f.headerOffset;
    line = f.headerLine;
  }
  const format: RecordFormat = cp.format!;
  const from = cp.staged
    ? { store: staging, key: cp.staged.key, pin: { etag: cp.staged.etag } }
    : { store, key: state.source.key, pin: pinOf(state.source) };
  const stream = await from.store.read(from.key, { start: offset, pin: from.pin });
  const batches = readRecordBatches(stream, format, { offset, line, maxCellBytes: options.input.maxCellBytes })[Symbol.asyncIterator]();
  if (cp.header) return { format, batches, carry: [], offset, line };

  const { header, carry } = await readHeader(batches);
  cp.header = header.cells;
  cp.headerRaw = header.raw;
  return { format, batches, carry, offset: header.end, line: lineAfter(header) };
}

/** Writes the converted sheet and pins it by its ETag (a re-run of the first chunk writes it again). */
async function stage(staging: ObjectStore, key: string, csv: Readable): Promise<{ key: string; etag: string }> {
  await staging.write(key, csv, 'text/csv; charset=utf-8');
  const { etag } = await staging.head(key);
  if (!etag) throw new Error(`${staging.label}/${key}: the converted workbook has no ETag to pin`);
  return { key, etag };
}

/** The first record, and the rest of its batch. */
async function readHeader(batches: AsyncIterator<SourceRecord[]>): Promise<{ header: SourceRecord; carry: SourceRecord[] }> {
  let first: SourceRecord | undefined;
  let carry: SourceRecord[] = [];
  try {
    while (!first) {
      const next = await batches.next();
      if (next.done) break;
      [first, ...carry] = next.value;
    }
  } catch (err) {
    await batches.return?.(undefined);
    if (err instanceof CsvCutShortError) throw new FileRefusedError('MALFORMED_CSV', `the header cannot be read: ${err.message}`);
    throw err;
  }
  if (!first) {
    await batches.return?.(undefined);
    throw emptyFile();
  }
  return { header: first, carry };
}

async function readHead(store: ObjectStore, key: string, pin: Pin): Promise<Buffer> {
  return readUpTo(store, key, pin, HEAD_BYTES);
}
