import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { encodeEventKey, type LocalS3 } from '../../../harness/localS3.ts';

/**
 * Uploads an object as `aws s3 cp --metadata` or the console does (user metadata travels as `x-amz-meta-*`
 * headers) and returns the event s3rver emitted for it, key URL-encoded as S3 sends it.
 */
export async function dropObject(
  s3: LocalS3,
  bucket: string,
  key: string,
  body: string | Buffer,
  metadata?: Record<string, string>,
): Promise<S3Event> {
  const seen = new Promise<S3EventRecord>((resolve) =>
    s3.onObjectCreated((record) => {
      if (record.s3.object.key === encodeEventKey(key)) resolve(record);
    }),
  );
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
  return { Records: [await seen] };
}
