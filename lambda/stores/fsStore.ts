import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectChangedError } from '../errors.ts';
import type { ObjectInfo, ObjectStore } from './store.ts';

/**
 * `ObjectStore` on a local folder (the CLI and tests). Keys are `/`-separated paths under the root.
 * Writes go to a temporary file renamed into place, so a reader never sees half a file and a chunk that dies
 * leaves nothing behind. The ETag is size + mtime: enough to notice a file replaced during a run.
 *
 * @example
 * const out = new FsStore('./leads-report');
 * await out.write('summary.json', JSON.stringify(summary));
 */
export class FsStore implements ObjectStore {
  readonly root: string;
  readonly label: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.label = this.root;
  }

  /** Absolute path of a key; refuses keys that climb out of the root. */
  pathOf(key: string): string {
    const full = resolve(this.root, key);
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new Error(`key outside the store: ${key}`);
    return full;
  }

  async head(key: string): Promise<ObjectInfo> {
    const st = await stat(this.pathOf(key));
    return { key, size: st.size, etag: etagOf(st.size, st.mtimeMs) };
  }

  async read(key: string, opts: { start?: number; pin?: Pick<ObjectInfo, 'etag' | 'versionId'> } = {}): Promise<Readable> {
    const path = this.pathOf(key);
    if (opts.pin?.etag) {
      const st = await stat(path).catch(() => undefined);
      if (!st || etagOf(st.size, st.mtimeMs) !== opts.pin.etag) throw new ObjectChangedError(path, 'file');
    }
    // 64 KiB reads: big enough for a tight parser loop, small enough to keep buffers (and peak RSS) low.
    return createReadStream(path, { start: opts.start ?? 0, highWaterMark: 64 * 1024 });
  }

  async write(key: string, body: string | Uint8Array | Readable, _contentType?: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      if (body instanceof Readable) await pipeline(body, createWriteStream(tmp));
      else await writeFile(tmp, body);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the folder the prefix names, then filter by the rest of it.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash === -1 ? '' : prefix.slice(0, slash);
    const dir = this.pathOf(dirKey);
    let names: string[];
    try {
      names = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) =>
          relative(this.root, join(d.parentPath ?? d.path, d.name))
            .split(sep)
            .join('/'),
        );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((k) => k.startsWith(prefix) && !k.endsWith('.tmp')).sort();
  }

  async remove(keys: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const path = this.pathOf(key);
      await rm(path, { force: true });
      dirs.add(dirname(path));
    }
    // Tidy folders the removal emptied (e.g. `.parts/`), never the root itself.
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
      for (let d = dir; d !== this.root && d.startsWith(this.root + sep); d = dirname(d)) {
        try {
          await rmdir(d);
        } catch {
          break;
        }
      }
    }
  }
}

function etagOf(size: number, mtimeMs: number): string {
  return `"${size}-${Math.floor(mtimeMs)}"`;
}
