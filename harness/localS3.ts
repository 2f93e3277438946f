import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';

/** The slice of s3rver (an untyped CommonJS package) we use. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: S3Event) => void): void;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

export interface LocalS3 {
  endpoint: string;
  /** A client configured for this server (path style, fake credentials, no streaming checksums). */
  client: S3Client;
  /** Where s3rver keeps an object's bytes on disk. */
  pathOf(bucket: string, key: string): string;
  /** Called with every ObjectCreated record, the key URL-encoded as real S3 sends it. */
  onObjectCreated(listener: (record: S3EventRecord) => void): void;
  close(): Promise<void>;
}

/**
 * A client for a local S3-compatible server. Newer SDKs send streamed uploads with aws-chunked
 * checksums that old servers (s3rver) store verbatim, corrupting the object: only send/check
 * checksums when an operation requires them.
 */
export function localS3Client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  });
}

/**
 * Real S3 URL-encodes event keys (form style: space → '+'); s3rver emits them raw. Encode here, at the edge,
 * so the start handler sees exactly what Lambda would.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** Starts s3rver on 127.0.0.1 (port 0 = any free port) with `buckets` created, data kept in `directory`. */
export async function startLocalS3(options: { directory: string; buckets: string[]; port?: number }): Promise<LocalS3> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverCtor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = localS3Client(endpoint);
  const listeners: Array<(record: S3EventRecord) => void> = [];
  server.on('event', (event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      const encoded: S3EventRecord = {
        ...record,
        s3: { ...record.s3, object: { ...record.s3.object, key: encodeEventKey(record.s3.object.key) } },
      };
      for (const listener of listeners) listener(encoded);
    }
  });
  return {
    endpoint,
    client,
    pathOf: (bucket, key) => `${options.directory}/${bucket}/${key}._S3rver_object`,
    onObjectCreated: (listener) => void listeners.push(listener),
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
