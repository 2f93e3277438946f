import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { encodeEventKey, startLocalS3, type LocalS3 } from '../../harness/localS3.ts';

/** A local bucket (s3rver on port 0, in a temp folder) that hands back the real event record of each upload. */
export interface EventBucket {
  s3: LocalS3;
  store: S3Store;
  /** Every event record s3rver emitted, in order. */
  records: S3EventRecord[];
  /** Uploads and returns the event s3rver emitted for it (key URL-encoded as S3 sends it). */
  upload(key: string, body: string): Promise<S3Event>;
  close(): Promise<void>;
}

export async function startEventBucket(bucket: string, name: string): Promise<EventBucket> {
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const s3 = await startLocalS3({ directory: dir, buckets: [bucket] });
  const records: S3EventRecord[] = [];
  const waiters: Array<{ key: string; resolve: (r: S3EventRecord) => void }> = [];
  s3.onObjectCreated((record) => {
    records.push(record);
    for (const w of waiters.splice(0)) {
      if (w.key === record.s3.object.key) w.resolve(record);
      else waiters.push(w);
    }
  });
  return {
    s3,
    store: new S3Store(s3.client, bucket),
    records,
    async upload(key, body) {
      const seen = new Promise<S3EventRecord>((resolve) => waiters.push({ key: encodeEventKey(key), resolve }));
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return { Records: [await seen] };
    },
    async close() {
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
