import { createHash, createHmac } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createChunkHandler } from '../../lambda/aws/chunkHandler.ts';
import { ChunkEnvSchema, readEnv } from '../../lambda/aws/env.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { newRunState } from '../../lambda/run/newRun.ts';
import type { RunState } from '../../lambda/run/state.ts';
import type { S3Store } from '../../lambda/stores/s3Store.ts';

/** SigV4 query signing recomputed from the URL alone (what S3 checks), so a wrong canonical form fails here. */
export function signatureMatches(url: string, secret: string): boolean {
  const u = new URL(url);
  const pairs = u.search.slice(1).split('&');
  const signature = pairs.find((p) => p.startsWith('X-Amz-Signature='))!.split('=')[1];
  const query = pairs.filter((p) => !p.startsWith('X-Amz-Signature=')).sort();
  const canonical = ['GET', u.pathname, query.join('&'), `host:${u.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const get = (k: string) => decodeURIComponent(query.find((p) => p.startsWith(`${k}=`))!.split('=')[1]);
  const [, date, region, service] = get('X-Amz-Credential').split('/');
  const toSign = [
    'AWS4-HMAC-SHA256',
    get('X-Amz-Date'),
    `${date}/${region}/${service}/aws4_request`,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex') === signature;
}

/** When a pre-signed URL stops working, from its own X-Amz-Date and X-Amz-Expires. */
export function urlExpiry(url: string): Date {
  const q = new URL(url).searchParams;
  const d = q.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
  return new Date(Date.parse(d) + Number(q.get('X-Amz-Expires')) * 1000);
}

/** The access key id a pre-signed URL was signed with (the first part of its X-Amz-Credential). */
export function signingKeyId(url: string): string {
  return new URL(url).searchParams.get('X-Amz-Credential')!.split('/')[0];
}

/** A dry run offline (no webhook) through the chunk handler: a real run's parts under bucket `leads`, ready for finalize. */
export async function dryRunParts(client: S3Client, store: S3Store, name: string, csv: string): Promise<RunState> {
  await client.send(new PutObjectCommand({ Bucket: 'leads', Key: `incoming/${name}`, Body: csv }));
  const chunk = createChunkHandler({
    env: readEnv(ChunkEnvSchema, {}),
    store: () => store,
    webhook: async () => undefined,
    log: createLogger({ service: 't', level: 'SILENT' }),
  });
  let state = newRunState({
    source: { bucket: 'leads', ...(await store.head(`incoming/${name}`)) },
    reportPrefix: `reports/${name}/run1/`,
    partsPrefix: `parts/${name}/`,
    options: parseRunOptions({ dryRun: true }),
  });
  while (!state.checkpoint.done) state = await chunk(state);
  return state;
}
