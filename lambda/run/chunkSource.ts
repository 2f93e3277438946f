import { CsvCutShortError, FileRefusedError } from '../errors.ts';
import { lineAfter, readRecordBatches, type RecordFormat } from '../rows/records.ts';
import { detectFormat, HEAD_BYTES } from '../source/format.ts';
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

/**
 * Opens the source where the checkpoint stopped. On the first chunk it refuses a file too large or empty,
 * detects the format and reads the header, and records both in `cp` (later chunks read from the middle).
 * A refused file throws FileRefusedError; the stream is closed on any failure.
 */
export async function openChunkSource(state: RunState, cp: Checkpoint, store: ObjectStore): Promise<ChunkSource> {
  const { options } = state;
  const { key } = state.source;
  const pin = pinOf(state.source);
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
    const f = detectFormat(await readHead(store, key, pin), options);
    cp.format = { encoding: f.encoding, delimiter: f.delimiter, bom: f.bomLength > 0 };
    offset = f.headerOffset;
    line = f.headerLine;
  }
  const format: RecordFormat = cp.format!;
  const stream = await store.read(key, { start: offset, pin });
  const batches = readRecordBatches(stream, format, { offset, line, maxCellBytes: options.input.maxCellBytes })[Symbol.asyncIterator]();
  if (cp.header) return { format, batches, carry: [], offset, line };

  const { header, carry } = await readHeader(batches);
  cp.header = header.cells;
  cp.headerRaw = header.raw;
  return { format, batches, carry, offset: header.end, line: lineAfter(header) };
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

function pinOf(source: ObjectInfo): Pin {
  if (!source.etag && !source.versionId) return undefined;
  return { ...(source.etag ? { etag: source.etag } : {}), ...(source.versionId ? { versionId: source.versionId } : {}) };
}

async function readHead(store: ObjectStore, key: string, pin: Pin): Promise<Buffer> {
  const stream = await store.read(key, { start: 0, pin });
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      parts.push(buf);
      size += buf.length;
      if (size >= HEAD_BYTES) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES);
}
