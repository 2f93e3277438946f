import type { ObjectInfo, ObjectStore } from './store.ts';

/** What pins a read to the version that was headed: its ETag and version id (none when the store has neither). */
export function pinOf(info: Pick<ObjectInfo, 'etag' | 'versionId'>): Pick<ObjectInfo, 'etag' | 'versionId'> | undefined {
  if (!info.etag && !info.versionId) return undefined;
  return { ...(info.etag ? { etag: info.etag } : {}), ...(info.versionId ? { versionId: info.versionId } : {}) };
}

/** Up to `limit` bytes from the object's start, read at its pinned version (the stream is closed after). */
export async function readUpTo(
  store: ObjectStore,
  key: string,
  pin: Pick<ObjectInfo, 'etag' | 'versionId'> | undefined,
  limit: number,
): Promise<Buffer> {
  const stream = await store.read(key, { start: 0, pin });
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      parts.push(buf);
      size += buf.length;
      if (size >= limit) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, limit);
}
