import type { ObjectStore } from '../stores/store.ts';

/**
 * Lead IDs the run has met, and on which line first: a lead named twice in a file (the portal's own export
 * writes one line per product row) is applied twice in file order, so the later row gets a warning naming the
 * earlier line. Chunks are fresh Lambdas: each chunk writes the (ID, line) pairs it met to its own small
 * object (`parts/<run>/ids/<part>.bin`, 8 bytes a row, overwritten by a retry of the same chunk), and the next
 * chunk loads the earlier parts. The table is two typed arrays (off the JS heap: 5 M IDs take 64 MB, not the
 * gigabyte a Map would).
 */
export class SeenIds {
  private keys = new Int32Array(1 << 12);
  private lines = new Int32Array(1 << 12);
  private size = 0;
  /** This chunk's pairs, written at its end. */
  private fresh: number[] = [];

  /** The run's table before chunk `part`: every earlier chunk's pairs. */
  static async load(store: ObjectStore, partsPrefix: string, part: number): Promise<SeenIds> {
    const seen = new SeenIds();
    const prefix = idsPrefix(partsPrefix);
    for (const key of await store.list(prefix)) {
      const n = Number(/(\d{6})\.bin$/.exec(key)?.[1] ?? Number.NaN);
      if (!(n < part)) continue; // a later part is a dead chunk's
      // A copy: a Buffer may start at any byte of its pool, an Int32Array view only at a multiple of 4.
      const bytes = new Uint8Array(await readAll(store, key));
      const pairs = new Int32Array(bytes.buffer, 0, Math.floor(bytes.length / 8) * 2);
      for (let i = 0; i + 1 < pairs.length; i += 2) seen.insert(pairs[i], pairs[i + 1]);
    }
    return seen;
  }

  /** Notes `id` on `line`; the earlier line that named it, if any (a row read again by a later chunk is not a repeat). */
  note(id: number, line: number): number | undefined {
    const first = this.find(id);
    if (first !== undefined) return first === line ? undefined : first;
    this.insert(id, line);
    this.fresh.push(id, line);
    return undefined;
  }

  /** Writes this chunk's pairs (before the chunk returns its checkpoint). */
  async save(store: ObjectStore, partsPrefix: string, part: number): Promise<void> {
    if (this.fresh.length === 0) return;
    const bytes = new Uint8Array(Int32Array.from(this.fresh).buffer);
    await store.write(`${idsPrefix(partsPrefix)}${String(part).padStart(6, '0')}.bin`, bytes, 'application/octet-stream');
  }

  private slot(id: number): number {
    const mask = this.keys.length - 1;
    let i = Math.imul(id, 0x9e3779b1) & mask;
    while (this.keys[i] !== 0 && this.keys[i] !== id) i = (i + 1) & mask;
    return i;
  }

  private find(id: number): number | undefined {
    const i = this.slot(id);
    return this.keys[i] === id ? this.lines[i] : undefined;
  }

  private insert(id: number, line: number): void {
    if (id <= 0) return; // no lead ID is 0 or negative; 0 marks a free slot
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const i = this.slot(id);
    if (this.keys[i] === id) return; // the first line stays
    this.keys[i] = id;
    this.lines[i] = line;
    this.size++;
  }

  private grow(): void {
    const { keys, lines } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.lines = new Int32Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.insert(keys[i], lines[i]);
  }
}

export function idsPrefix(partsPrefix: string): string {
  return `${partsPrefix}ids/`;
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** The later row's warning. */
export function repeatWarning(line: number, id: number, earlier: number): string {
  return `line ${line}: lead ${id} is also on line ${earlier}; the rows apply in file order, so where they differ this row's values win`;
}
