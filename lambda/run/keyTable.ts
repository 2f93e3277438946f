import type { ObjectStore } from '../stores/store.ts';

/**
 * `--match`: the run's key → lead table, so a key resolves once per run. A key's first answer from the portal
 * (its one lead, none, or the several that hold it) is kept for the whole run, across windows and chunks, and
 * later rows with that key take it without a new look-up: an earlier row (or another writer) may have moved the
 * key since, and the same key must still name the same lead, whatever window or chunk its rows fall in. Only
 * answers are kept: a look-up that failed or was deferred decides nothing and is tried again by the next row.
 *
 * Chunks are fresh Lambdas, so each chunk writes the entries it added to its own object
 * (`<partsPrefix>matched/<part>.bin`) before it returns its checkpoint, and the next chunk loads the earlier
 * parts. A retried chunk loads its own part too (an earlier attempt of the same chunk, same first line: its
 * answers are this run's) and overwrites it with everything it holds for that part; a part past its own number
 * is a dead chunk's and is ignored (as seenIds.ts).
 *
 * Compact: the normalised keys' UTF-8 bytes sit end to end in one growing byte array, with a typed-array index
 * (ends, values, open-addressing slots): no string or Map entry per key on the JS heap. Measured: 1 M e-mail keys
 * of ~36 bytes take 54 MB of array buffers and no heap (a Map of the same strings: 85 MB of heap); the part is
 * 44 MB, loaded in ~1.4 s (test/run/keyTable.test.ts logs the figures).
 */

/** A key's answer: `[id]` its one lead, `[]` none, several IDs (ascending) ambiguous. */
export type KeyLeads = readonly number[];

export class KeyTable {
  private bytes = new Uint8Array(1 << 14);
  private used = 0;
  /** Entry i's key is bytes[ends[i-1] (0 for the first) … ends[i]). */
  private ends = new Uint32Array(1 << 9);
  /** Entry i's answer: > 0 its lead, 0 none, -(k + 1) the k-th list of `several`. */
  private values = new Int32Array(1 << 9);
  private count = 0;
  /** Entry index + 1 per slot; 0 free. */
  private slots = new Int32Array(1 << 10);
  private readonly several: number[][] = [];
  /** Entries below this came from earlier chunks' parts: not this chunk's to save. */
  private base = 0;
  private readonly encoder = new TextEncoder();
  private scratch = new Uint8Array(256);

  /** The run's table for chunk `part`: every earlier chunk's answers, then an earlier attempt's of this chunk. */
  static async load(store: ObjectStore, partsPrefix: string, part: number): Promise<KeyTable> {
    const table = new KeyTable();
    const prefix = matchedPrefix(partsPrefix);
    const numbered = (await store.list(prefix))
      .map((key) => ({ key, n: Number(/(\d{6})\.bin$/.exec(key)?.[1] ?? Number.NaN) }))
      .filter((p) => p.n <= part)
      .sort((a, b) => a.n - b.n);
    for (const { key, n } of numbered) {
      if (n === part) table.base = table.count;
      table.decode(await readAll(store, key));
    }
    if (!numbered.some((p) => p.n === part)) table.base = table.count;
    return table;
  }

  get size(): number {
    return this.count;
  }

  /** The key's answer, if the run has one. */
  get(key: string): KeyLeads | undefined {
    const e = this.find(this.encode(key));
    return e < 0 ? undefined : this.answer(this.values[e]);
  }

  /** Keeps `leads` as the key's answer unless it has one already (the first answer stays); true if added. */
  set(key: string, leads: KeyLeads): boolean {
    const bytes = this.encode(key);
    if (this.find(bytes) >= 0) return false;
    this.insert(bytes, this.valueOf(leads));
    return true;
  }

  /** Writes this chunk's entries (before the chunk returns its checkpoint). */
  async save(store: ObjectStore, partsPrefix: string, part: number): Promise<void> {
    if (this.count === this.base) return;
    const key = `${matchedPrefix(partsPrefix)}${String(part).padStart(6, '0')}.bin`;
    await store.write(key, this.encodeEntries(this.base, this.count), 'application/octet-stream');
  }

  /** Record: u32 key length, key bytes, i32 value; a `several` value (-n) is followed by its n IDs. Little-endian. */
  private encodeEntries(from: number, to: number): Uint8Array {
    let size = 0;
    for (let i = from; i < to; i++) size += 8 + this.keyLength(i) + 4 * (this.listOf(this.values[i])?.length ?? 0);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let at = 0;
    for (let i = from; i < to; i++) {
      const start = i === 0 ? 0 : this.ends[i - 1];
      const len = this.ends[i] - start;
      view.setUint32(at, len, true);
      out.set(this.bytes.subarray(start, this.ends[i]), at + 4);
      at += 4 + len;
      const list = this.listOf(this.values[i]);
      view.setInt32(at, list ? -list.length : this.values[i], true);
      at += 4;
      for (const id of list ?? []) {
        view.setInt32(at, id, true);
        at += 4;
      }
    }
    return out;
  }

  private decode(buf: Buffer): void {
    // A plain view: a Buffer's subarray costs far more per call than a Uint8Array's.
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let at = 0;
    while (at + 8 <= bytes.length) {
      const len = view.getUint32(at, true);
      const key = bytes.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      const tag = view.getInt32(at, true);
      at += 4;
      const leads: number[] = [];
      for (let k = 0; k < -tag; k++, at += 4) leads.push(view.getInt32(at, true));
      if (this.find(key) < 0) this.insert(key, tag < 0 ? this.valueOf(leads) : tag);
    }
  }

  private valueOf(leads: KeyLeads): number {
    if (leads.length === 1 && leads[0] > 0) return leads[0];
    if (leads.length === 0) return 0;
    this.several.push([...leads]);
    return -this.several.length;
  }

  private answer(value: number): KeyLeads {
    return value > 0 ? [value] : (this.listOf(value) ?? []);
  }

  private listOf(value: number): number[] | undefined {
    return value < 0 ? this.several[-value - 1] : undefined;
  }

  private keyLength(i: number): number {
    return this.ends[i] - (i === 0 ? 0 : this.ends[i - 1]);
  }

  private encode(key: string): Uint8Array {
    if (this.scratch.length < key.length * 3) this.scratch = new Uint8Array(key.length * 3);
    const { written } = this.encoder.encodeInto(key, this.scratch);
    return this.scratch.subarray(0, written);
  }

  /** The entry holding these key bytes, or -1. */
  private find(key: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let i = hash(key) & mask; this.slots[i] !== 0; i = (i + 1) & mask) {
      const e = this.slots[i] - 1;
      if (this.equals(e, key)) return e;
    }
    return -1;
  }

  private equals(e: number, key: Uint8Array): boolean {
    const start = e === 0 ? 0 : this.ends[e - 1];
    if (this.ends[e] - start !== key.length) return false;
    for (let k = 0; k < key.length; k++) if (this.bytes[start + k] !== key[k]) return false;
    return true;
  }

  private insert(key: Uint8Array, value: number): void {
    if (this.used + key.length > this.bytes.length) this.bytes = grown(this.bytes, this.used + key.length);
    if (this.count === this.ends.length) {
      this.ends = grown(this.ends, this.count + 1);
      this.values = grown(this.values, this.count + 1);
    }
    this.bytes.set(key, this.used);
    this.used += key.length;
    this.ends[this.count] = this.used;
    this.values[this.count] = value;
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.place(this.count - 1, key);
  }

  private place(e: number, key: Uint8Array): void {
    const mask = this.slots.length - 1;
    let i = hash(key) & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = e + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let e = 0; e < this.count; e++) this.place(e, this.bytes.subarray(e === 0 ? 0 : this.ends[e - 1], this.ends[e]));
  }
}

export function matchedPrefix(partsPrefix: string): string {
  return `${partsPrefix}matched/`;
}

/** FNV-1a over the key's bytes. */
function hash(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < key.length; k++) h = Math.imul(h ^ key[k], 0x01000193);
  return h >>> 0;
}

/** A copy of `a` with room for at least `need` items: half as big again (not double: less slack at millions of keys). */
function grown<T extends Uint8Array | Uint32Array | Int32Array>(a: T, need: number): T {
  const next = new (a.constructor as new (n: number) => T)(Math.max(need, Math.ceil(a.length * 1.5)));
  next.set(a);
  return next;
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
