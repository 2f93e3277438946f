import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  S3ServiceException,
  type S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectChangedError } from '../errors.ts';
import type { ObjectInfo, ObjectStore } from './store.ts';

export interface S3StoreOptions {
  /** Multipart part size for `write` (bytes, ≥ 5 MiB); memory per upload ≈ partSize × queueSize. */
  partSize?: number;
  /** Parts uploaded in parallel per `write`. */
  queueSize?: number;
}

/** The S3 errors that mean "the object is not the one we pinned". */
const CHANGED_CODES = new Set(['PreconditionFailed', 'NoSuchKey', 'NoSuchVersion', 'NotFound']);
const DELETE_BATCH = 1000;

/**
 * `ObjectStore` on one S3 bucket. Reads stream from a byte offset (Range GET) pinned to the version/ETag the
 * run started with; writes stream through lib-storage's multipart `Upload`, so memory stays bounded.
 *
 * @example
 * const store = new S3Store(new S3Client({}), 'my-bucket');
 * const body = await store.read('incoming/leads.csv', { start: 1024, pin: { etag: '"abc"' } });
 */
export class S3Store implements ObjectStore {
  readonly label: string;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    private readonly options: S3StoreOptions = {},
  ) {
    this.label = `s3://${bucket}`;
  }

  async head(key: string): Promise<ObjectInfo> {
    const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    return {
      key,
      size: res.ContentLength ?? 0,
      ...(res.ETag ? { etag: res.ETag } : {}),
      // Unversioned buckets answer "null" (or nothing): only a real version id pins anything.
      ...(res.VersionId && res.VersionId !== 'null' ? { versionId: res.VersionId } : {}),
    };
  }

  async read(key: string, opts: { start?: number; pin?: Pick<ObjectInfo, 'etag' | 'versionId'> } = {}): Promise<Readable> {
    const start = opts.start ?? 0;
    const pin = opts.pin;
    let res: GetObjectCommandOutput;
    try {
      res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
          ...(pin?.versionId ? { VersionId: pin.versionId } : {}),
          ...(pin?.etag ? { IfMatch: pin.etag } : {}),
        }),
      );
    } catch (err) {
      const code = errorCode(err);
      // Reading from the very end (a checkpoint at EOF) is not an error: there is simply nothing left.
      if (code === 'InvalidRange') return Readable.from([]);
      if (pin && code && CHANGED_CODES.has(code)) throw new ObjectChangedError(`${this.label}/${key}`, 'object');
      throw err;
    }
    const body = res.Body as Readable | undefined;
    // Some S3-compatible servers (s3rver) ignore If-Match: compare the ETag they answer with, too.
    if (pin?.etag && res.ETag && normaliseEtag(res.ETag) !== normaliseEtag(pin.etag)) {
      body?.destroy();
      throw new ObjectChangedError(`${this.label}/${key}`, 'object');
    }
    return body ?? Readable.from([]);
  }

  async write(key: string, body: string | Uint8Array | Readable, contentType?: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async list(prefix: string): Promise<string[]> {
    // ListObjects (v1) paged by Marker = last key: same result as v2 on S3 and MinIO, and s3rver's v2
    // continuation tokens use DES, which Node's OpenSSL 3 refuses (HTTP 500 on the second page).
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const res = await this.client.send(
        new ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, ...(marker !== undefined ? { Marker: marker } : {}) }),
      );
      const page = (res.Contents ?? []).flatMap((item) => (item.Key !== undefined ? [item.Key] : []));
      keys.push(...page);
      if (!res.IsTruncated || page.length === 0) break;
      marker = page[page.length - 1];
    }
    return keys.sort();
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(`could not delete ${failed.length} object(s) from ${this.label}, e.g. ${first.Key}: ${first.Code}`);
      }
    }
  }
}

/** The S3 error code of a failed call (the SDK names each error by its code); undefined for anything but S3's answers. */
function errorCode(err: unknown): string | undefined {
  if (!(err instanceof S3ServiceException)) return undefined;
  // Servers answer these statuses with or without an error body (a HEAD has none): the status is the code.
  if (err.$metadata.httpStatusCode === 412) return 'PreconditionFailed';
  if (err.$metadata.httpStatusCode === 416) return 'InvalidRange';
  return err.name;
}

function normaliseEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}
