import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { encodeText, type TextEncoding } from '../rows/text.ts';
import type { ObjectStore } from '../stores/store.ts';

const PIECE_BYTES = 64 * 1024;

/**
 * Streams text lines into one stored object with backpressure, in 64 KiB pieces, so a part of a million lines
 * never sits in memory. Lines are encoded straight into a byte buffer: the strings die young (no long cons
 * strings promoted to the old heap). The store consumes the stream while the chunk produces it.
 */
export class PartWriter {
  readonly done: Promise<void>;
  private readonly stream = new PassThrough();
  private buf = Buffer.allocUnsafe(PIECE_BYTES);
  private used = 0;

  constructor(
    output: ObjectStore,
    key: string,
    private readonly encoding: TextEncoding,
  ) {
    this.done = output.write(key, this.stream as Readable, 'text/csv');
    this.done.catch(() => {}); // observed in add/end
  }

  /** Adds a line; returns a promise only when a piece went to the store (await it: backpressure). */
  add(text: string): Promise<void> | undefined {
    const utf8 = this.encoding === 'utf-8';
    const worst = utf8 ? text.length * 3 : text.length;
    let wait: Promise<void> | undefined;
    if (this.used + worst > PIECE_BYTES) wait = this.flush();
    if (worst > PIECE_BYTES) {
      const big = utf8 ? Buffer.from(text, 'utf8') : encodeText(text, this.encoding);
      const more = this.send(big);
      return wait && more ? Promise.all([wait, more]).then(() => {}) : (wait ?? more);
    }
    if (utf8) this.used += this.buf.write(text, this.used, 'utf8');
    else this.used += encodeText(text, this.encoding).copy(this.buf, this.used);
    return wait;
  }

  private flush(): Promise<void> | undefined {
    if (this.used === 0) return undefined;
    const piece = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(PIECE_BYTES);
    this.used = 0;
    return this.send(piece);
  }

  private send(piece: Buffer): Promise<void> | undefined {
    if (this.stream.write(piece)) return undefined;
    return Promise.race([once(this.stream, 'drain').then(() => {}), this.done]);
  }

  async end(): Promise<void> {
    const wait = this.flush();
    if (wait) await wait;
    this.stream.end();
    await this.done;
  }

  abort(err: Error): void {
    this.stream.destroy(err);
  }
}
