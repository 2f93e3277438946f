import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { S3Store } from '../stores/s3Store.ts';
import { partsPrefixFor, reportPrefixFor } from '../run/keys.ts';
import { runIdFor } from '../run/newRun.ts';
import type { ObjectInfo, ObjectStore } from '../stores/store.ts';

/** `s3://bucket/key` → its parts; undefined for anything else (a local path). */
export function parseS3Url(text: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(text);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}

/** What the CLI needs to run on an S3 object: the stores, the pinned object and where the report goes. */
export interface S3Source {
  bucket: string;
  source: ObjectStore;
  /** The same bucket: the report is written back beside the input, under reports/. */
  output: ObjectStore;
  info: ObjectInfo;
  runId: string;
  reportPrefix: string;
  partsPrefix: string;
  /** `s3://bucket/<key>` for printing where a report object is. */
  where(key: string): string;
  close(): void;
}

/**
 * A client from the SDK's standard settings (profiles, AWS_REGION, AWS_ENDPOINT_URL_S3…). With a custom
 * endpoint (a local S3 server, MinIO) path-style addressing is used and checksums are only sent where
 * required: older servers do not speak aws-chunked uploads.
 */
export function cliS3Client(env: NodeJS.ProcessEnv = process.env, extra: Partial<S3ClientConfig> = {}): S3Client {
  const custom = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  return new S3Client({
    // Without any configured region (a local server, no profile) S3 still needs one to sign requests.
    ...(region ? { region } : custom ? { region: 'us-east-1' } : {}),
    followRegionRedirects: true,
    ...(custom ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    ...extra,
  });
}

/**
 * Opens `s3://bucket/key` for the CLI: heads (and so pins) the object; the report goes to the same bucket.
 *
 * @example
 * const src = await openS3Source('s3://leads/incoming/may.csv');
 * const state = newRunState({ source: { bucket: src.bucket, ...src.info }, reportPrefix: src.reportPrefix, partsPrefix: src.partsPrefix, options });
 */
export async function openS3Source(url: string, client: S3Client = cliS3Client()): Promise<S3Source> {
  const loc = parseS3Url(url);
  if (!loc) throw new Error(`not an s3:// URL: ${url}`);
  const store = new S3Store(client, loc.bucket);
  const info = await store.head(loc.key);
  const runId = runIdFor(loc.bucket, loc.key, info.versionId ?? info.etag ?? '');
  return {
    bucket: loc.bucket,
    source: store,
    output: store,
    info,
    runId,
    // Named as the Lambda flow names it (long keys hashed the same way).
    reportPrefix: reportPrefixFor(loc.key, runId),
    partsPrefix: partsPrefixFor(runId),
    where: (key) => `s3://${loc.bucket}/${key}`,
    close: () => client.destroy(),
  };
}
