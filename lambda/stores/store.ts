import type { Readable } from 'node:stream';

/** What we know of a stored object; `version` pins a consistent read (S3 version id or ETag). */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  versionId?: string;
}

/**
 * The narrow I/O edge for files: S3 (lambda/stores/s3Store.ts) and the local filesystem (lambda/stores/fsStore.ts)
 * implement it, so the same steps run in Lambda, in the CLI and in tests.
 */
export interface ObjectStore {
  /** Human name of where this store points, for messages (`s3://bucket`, a folder path). Never a secret. */
  readonly label: string;
  head(key: string): Promise<ObjectInfo>;
  /** Streams the object from byte `start` (inclusive). With `pin`, fails if the object changed since. */
  read(key: string, opts?: { start?: number; pin?: Pick<ObjectInfo, 'etag' | 'versionId'> }): Promise<Readable>;
  /** Writes a whole object (string, bytes or a stream, streamed when large). */
  write(key: string, body: string | Uint8Array | Readable, contentType?: string): Promise<void>;
  /** Keys under a prefix, sorted ascending. */
  list(prefix: string): Promise<string[]>;
  remove(keys: string[]): Promise<void>;
}
