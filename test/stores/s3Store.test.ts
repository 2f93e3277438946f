import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectChangedError } from '../../lambda/errors.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';
import { startLocalS3, type LocalS3 } from '../../harness/localS3.ts';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

describe('S3Store on a local S3 server', () => {
  let dir: string;
  let s3: LocalS3;
  let store: S3Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3store-'));
    s3 = await startLocalS3({ directory: dir, buckets: ['b'] });
    store = new S3Store(s3.client, 'b', { partSize: 5 * 1024 * 1024 });
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('heads an object: size and ETag to pin', async () => {
    await store.write('incoming/a.csv', 'ID,NAME\n1,Ann\n', 'text/csv');
    const info = await store.head('incoming/a.csv');
    expect(info).toMatchObject({ key: 'incoming/a.csv', size: 14 });
    expect(info.etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('reads from a byte offset, pinned to the ETag', async () => {
    const info = await store.head('incoming/a.csv');
    expect(await text(await store.read('incoming/a.csv', { start: 8, pin: info }))).toBe('1,Ann\n');
    expect(await text(await store.read('incoming/a.csv', { start: info.size }))).toBe('');
  });

  it('refuses to read an object replaced since it was pinned', async () => {
    await store.write('incoming/r.csv', 'ID\n1\n');
    const pinned = await store.head('incoming/r.csv');
    await s3.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'incoming/r.csv', Body: 'ID\n2\n' }));
    await expect(store.read('incoming/r.csv', { start: 3, pin: pinned })).rejects.toThrow(ObjectChangedError);
    await expect(store.read('incoming/r.csv', { pin: pinned })).rejects.toThrow('the object changed while being read');
  });

  it('refuses to read a pinned object that was deleted', async () => {
    await store.write('incoming/d.csv', 'ID\n1\n');
    const pinned = await store.head('incoming/d.csv');
    await store.remove(['incoming/d.csv']);
    await expect(store.read('incoming/d.csv', { pin: pinned })).rejects.toThrow('the object changed while being read');
  });

  it('writes a stream larger than one part (multipart) byte for byte', async () => {
    const part = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < part.length; i++) part[i] = (i * 7) % 251;
    const pieces = [part, part, part, part.subarray(0, 12345)];
    await store.write('big.bin', Readable.from(pieces));
    const info = await store.head('big.bin');
    expect(info.size).toBe(3 * part.length + 12345);
    const back: Buffer[] = [];
    for await (const c of await store.read('big.bin', { start: part.length - 10 })) back.push(Buffer.from(c as Uint8Array));
    const got = Buffer.concat(back);
    expect(got.length).toBe(info.size - (part.length - 10));
    expect(got.subarray(0, 10).equals(part.subarray(part.length - 10))).toBe(true);
    expect(got.subarray(got.length - 5).equals(part.subarray(12340, 12345))).toBe(true);
  });

  it('lists past one page, sorted, and removes in batches', async () => {
    const keys = Array.from({ length: 1105 }, (_, i) => `parts/run/${String(i).padStart(5, '0')}.csv`);
    const shuffled = [...keys].reverse();
    for (let i = 0; i < shuffled.length; i += 50) {
      await Promise.all(shuffled.slice(i, i + 50).map((k) => store.write(k, 'x')));
    }
    expect(await store.list('parts/run/')).toEqual(keys);
    await store.remove(keys);
    expect(await store.list('parts/run/')).toEqual([]);
  });

  it('keeps keys with spaces and non-ASCII characters intact', async () => {
    const key = 'incoming/лиды май 2024+%.csv';
    await store.write(key, 'ID\n1\n');
    expect((await store.head(key)).size).toBe(5);
    expect(await store.list('incoming/лиды')).toEqual([key]);
  });
});
