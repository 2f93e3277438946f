import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyTable, matchedPrefix } from '../../lambda/run/keyTable.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("the run's key table (--match): a key resolves once per run", () => {
  it('keeps the first answer of each key: one lead, none, several', () => {
    const t = new KeyTable();
    expect(t.get('ann@x.com')).toBeUndefined();
    expect(t.set('ann@x.com', [12])).toBe(true);
    expect(t.set('ann@x.com', [99])).toBe(false);
    expect(t.set('nobody@x.com', [])).toBe(true);
    expect(t.set('twin@x.com', [3, 4])).toBe(true);
    expect(t.set('тест@пример.рф', [7])).toBe(true);
    expect(t.get('ann@x.com')).toEqual([12]);
    expect(t.get('nobody@x.com')).toEqual([]);
    expect(t.get('twin@x.com')).toEqual([3, 4]);
    expect(t.get('тест@пример.рф')).toEqual([7]);
    // A key that is a prefix of another is its own key.
    expect(t.get('ann@x.co')).toBeUndefined();
    // Many keys: the index grows and keeps every answer.
    for (let i = 0; i < 50_000; i++) t.set(`user${i}@example.com`, [i + 1]);
    for (let i = 0; i < 50_000; i += 997) expect(t.get(`user${i}@example.com`)).toEqual([i + 1]);
    expect(t.get('twin@x.com')).toEqual([3, 4]);
    expect(t.size).toBe(50_004);
  });

  it("persists per chunk: the next chunk loads the earlier parts, a retry its own part too, a dead chunk's later part is ignored", async () => {
    dir = await mkdtemp(join(tmpdir(), 'keytable-'));
    const store = new FsStore(dir);
    const first = await KeyTable.load(store, 'parts/r/', 0);
    first.set('a@x.com', [1]);
    first.set('none@x.com', []);
    first.set('two@x.com', [5, 6]);
    await first.save(store, 'parts/r/', 0);

    const second = await KeyTable.load(store, 'parts/r/', 1);
    expect([second.get('a@x.com'), second.get('none@x.com'), second.get('two@x.com')]).toEqual([[1], [], [5, 6]]);
    second.set('b@x.com', [2]);
    await second.save(store, 'parts/r/', 1);
    // Part 1's object holds only what chunk 1 added.
    expect(await store.list(matchedPrefix('parts/r/'))).toEqual(['parts/r/matched/000000.bin', 'parts/r/matched/000001.bin']);

    // Chunk 1 again (its first attempt died after saving): it starts from its own earlier answers, and its
    // save keeps them beside the new ones.
    const retry = await KeyTable.load(store, 'parts/r/', 1);
    expect(retry.get('b@x.com')).toEqual([2]);
    retry.set('c@x.com', [3]);
    await retry.save(store, 'parts/r/', 1);
    const third = await KeyTable.load(store, 'parts/r/', 2);
    expect([third.get('a@x.com'), third.get('b@x.com'), third.get('c@x.com')]).toEqual([[1], [2], [3]]);

    // A part past the chunk's own number is a dead chunk's: chunk 2 run from the same checkpoint ignores it.
    third.set('dead@x.com', [9]);
    await third.save(store, 'parts/r/', 3);
    const fresh = await KeyTable.load(store, 'parts/r/', 2);
    expect(fresh.get('dead@x.com')).toBeUndefined();
    // Nothing added: nothing written.
    await fresh.save(store, 'parts/r/', 2);
    expect(await store.list(matchedPrefix('parts/r/'))).not.toContain('parts/r/matched/000002.bin');
  });

  it('1,000,000 e-mail keys: the memory they take, and a save and load of them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keytable-1m-'));
    const store = new FsStore(dir);
    const n = 1_000_000;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage();
    const t = new KeyTable();
    const keyOf = (i: number) => `user${i}.${(i * 7919) % 100_000}@example-company.com`;
    for (let i = 0; i < n; i++) t.set(keyOf(i), i % 50 === 0 ? [] : [i + 1]);
    gc?.();
    const after = process.memoryUsage();
    const heapMb = (after.heapUsed - before.heapUsed) / 1e6;
    const buffersMb = (after.arrayBuffers - before.arrayBuffers) / 1e6;
    let t0 = Date.now();
    await t.save(store, 'parts/m/', 0);
    const saveMs = Date.now() - t0;
    t0 = Date.now();
    const loaded = await KeyTable.load(store, 'parts/m/', 1);
    const loadMs = Date.now() - t0;
    console.log(
      JSON.stringify({
        keys: n,
        heapMb: gc ? Number(heapMb.toFixed(1)) : 'no --expose-gc',
        arrayBuffersMb: Number(buffersMb.toFixed(1)),
        bytesPerKey: Number(((after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers)) / n).toFixed(0)),
        saveMs,
        loadMs,
      }),
    );
    expect(loaded.size).toBe(n);
    expect(loaded.get(keyOf(123_457))).toEqual([123_458]);
    expect(loaded.get(keyOf(500))).toEqual([]);
    expect(loaded.get(keyOf(n))).toBeUndefined();
    // Typed arrays, not a Map of strings (≈ 85 bytes a key on the heap for these keys).
    expect(buffersMb).toBeLessThan(100);
  }, 60_000);
});
