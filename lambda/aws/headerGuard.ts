import { FileRefusedError } from '../errors.ts';
import { openChunkSource } from '../run/chunkSource.ts';
import type { Checkpoint, RunState } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';

/** Beyond these a header is refused (HEADER_TOO_LARGE): no lead has that many fields. */
export const MAX_HEADER_BYTES = 1024 * 1024;
export const MAX_HEADER_COLUMNS = 5000;

/**
 * Before the first chunk sends anything: reads the header alone and refuses an absurd one (HEADER_TOO_LARGE),
 * so no row of such a file reaches the portal. Otherwise answers the state with the format and header read and
 * the checkpoint just past the header, as every later chunk starts (the engine does not read the head again).
 * Undefined = the engine refuses the file the usual way (empty, too large, unreadable header).
 */
export async function readHeaderFirst(state: RunState, source: ObjectStore): Promise<RunState | undefined> {
  const cp: Checkpoint = structuredClone(state.checkpoint);
  try {
    const src = await openChunkSource(state, cp, source);
    await src.batches.return?.(undefined);
    cp.offset = src.offset;
    cp.line = src.line;
  } catch (err) {
    if (err instanceof FileRefusedError) return undefined;
    throw err;
  }
  const cells = cp.header?.length ?? 0;
  const bytes = Buffer.byteLength(cp.headerRaw ?? '');
  if (cells <= MAX_HEADER_COLUMNS && bytes <= MAX_HEADER_BYTES) return { ...state, checkpoint: cp };
  const refusal = new FileRefusedError(
    'HEADER_TOO_LARGE',
    `the header has ${cells} columns and ${bytes} bytes: at most ${MAX_HEADER_COLUMNS} columns and ${MAX_HEADER_BYTES} bytes are accepted`,
  );
  const { header: _h, headerRaw: _r, ...rest } = cp;
  return { ...state, checkpoint: { ...rest, refused: { code: refusal.code, message: refusal.message }, done: true } };
}

/** True when the run has not read its header yet (its first chunk). */
export function needsHeader(state: RunState): boolean {
  const cp = state.checkpoint;
  return !cp.header && !cp.headerKey && !cp.done;
}
