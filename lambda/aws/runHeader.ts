import { headerKeyFor } from '../run/keys.ts';
import type { RunState } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';

/**
 * The header travels in S3, not in the Step Functions state: carried there (cells and raw line) a wide header
 * outgrew the 256 KiB payload limit, and `States.DataLimitExceeded` left the run without any report.
 */

interface StoredHeader {
  header: string[];
  headerRaw: string;
}

/** The state with its header read back from S3, as the engine and finalize expect it. */
export async function withHeader(state: RunState, store: ObjectStore, opts: { missingOk?: boolean } = {}): Promise<RunState> {
  const key = state.checkpoint.headerKey;
  if (!key || state.checkpoint.header) return state;
  if (opts.missingOk && !(await store.list(key)).includes(key)) return state;
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  const stored = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StoredHeader;
  return { ...state, checkpoint: { ...state.checkpoint, header: stored.header, headerRaw: stored.headerRaw } };
}

/** The state to hand on: the header written once beside the parts, only its key kept. */
export async function withoutHeader(state: RunState, store: ObjectStore): Promise<RunState> {
  const { header, headerRaw, ...checkpoint } = state.checkpoint;
  if (header === undefined && headerRaw === undefined) return state;
  if (!checkpoint.headerKey) {
    const key = headerKeyFor(state.partsPrefix);
    const body: StoredHeader = { header: header ?? [], headerRaw: headerRaw ?? '' };
    await store.write(key, JSON.stringify(body), 'application/json');
    checkpoint.headerKey = key;
  }
  return { ...state, checkpoint };
}
