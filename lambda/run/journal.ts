import { randomUUID } from 'node:crypto';
import type { SendHooks } from '../calls/send/hooks.ts';
import type { ObjectStore } from '../stores/store.ts';
import type { RowOutcome, ValidRow } from '../types.ts';
import { type Window, withWarnings } from './window.ts';

/**
 * The applied journal: what the portal was sent and what it answered, per row, written while a chunk runs, so
 * neither a retried chunk (a crash, a part upload that failed) nor the next one (rows finished past the first
 * deferred one at a deadline) sends a row again or reports it differently. One object per window and chunk
 * attempt under the run's parts prefix, rewritten (coalesced) before each batch goes out and after each answer;
 * finalize removes it with the parts. Rows already in a written part are behind the checkpoint: objects that
 * only hold such rows are deleted by the next chunk.
 */

/** `<partsPrefix>journal/`: beside the parts, so finalize's cleanup takes it too. */
export function journalPrefix(partsPrefix: string): string {
  return `${partsPrefix}journal/`;
}

const KEY = /(\d{10})-(\d{10})-[^/]+\.json$/;

interface JournalBody {
  v: 1;
  /** Final outcomes, as the sender gave them. */
  done: RowOutcome[];
  /** Lines sent whose answer is not recorded (yet). */
  sent: number[];
}

/** What earlier attempts recorded for rows at or after the chunk's first line. */
export interface Journaled {
  done: Map<number, RowOutcome>;
  /** Sent, no answer recorded: the portal may have applied them. */
  sent: Set<number>;
}

/** Reads the journal for rows from `fromLine` on and deletes the objects that only cover rows before it. */
export async function readJournal(store: ObjectStore, partsPrefix: string, fromLine: number): Promise<Journaled> {
  const prefix = journalPrefix(partsPrefix);
  const keys = (await store.list(prefix)).filter((k) => k.startsWith(prefix) && KEY.test(k));
  const behind = keys.filter((k) => Number(KEY.exec(k)![2]) < fromLine);
  const live = keys.filter((k) => !behind.includes(k));
  const out: Journaled = { done: new Map(), sent: new Set() };
  for (const k of live) {
    const body = JSON.parse(await readAll(store, k)) as JournalBody;
    for (const o of body.done) out.done.set(o.line, o);
    for (const line of body.sent) out.sent.add(line);
  }
  for (const line of out.done.keys()) out.sent.delete(line);
  if (behind.length > 0) await store.remove(behind);
  return out;
}

async function readAll(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** One chunk attempt's journal: what earlier attempts recorded, and this attempt's records. */
export class ChunkJournal {
  private readonly nonce = randomUUID().slice(0, 8);
  private readonly windows: WindowJournal[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly partsPrefix: string,
    private readonly earlier: Journaled,
  ) {}

  static async open(store: ObjectStore, partsPrefix: string, fromLine: number): Promise<ChunkJournal> {
    return new ChunkJournal(store, partsPrefix, await readJournal(store, partsPrefix, fromLine));
  }

  /**
   * Settles the window's rows an earlier attempt finished (their recorded outcome, not sent again) and returns
   * the hooks for sending the rest.
   */
  prepare(w: Window): SendHooks {
    const { done, sent } = this.earlier;
    if (done.size > 0) {
      for (const item of w.items) {
        const o = item.row ? done.get(item.line) : undefined;
        if (o) item.outcome = withWarnings(o, item.row!);
      }
      w.rows = w.rows.filter((r) => !done.has(r.line));
    }
    const maybeApplied = new Set(w.rows.filter((r) => sent.has(r.line)).map((r) => r.line));
    if (w.rows.length === 0) return { maybeApplied };
    const key = `${journalPrefix(this.partsPrefix)}${pad(w.rows[0].line)}-${pad(w.rows.at(-1)!.line)}-${this.nonce}.json`;
    const wj = new WindowJournal(this.store, key);
    this.windows.push(wj);
    return { ...wj.hooks(), maybeApplied };
  }

  /** Waits for every record to be written; throws the first write that failed. */
  async flush(): Promise<void> {
    for (const w of this.windows) await w.flush();
  }
}

function pad(line: number): string {
  return String(line).padStart(10, '0');
}

/** One window's records in one object, rewritten whole; writes are chained and coalesced (latest state wins). */
class WindowJournal {
  private readonly done: RowOutcome[] = [];
  private readonly sent = new Set<number>();
  private chain: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private error: unknown;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
  ) {}

  hooks(): SendHooks {
    return {
      sending: (rows: readonly ValidRow[]) => {
        for (const r of rows) this.sent.add(r.line);
        return this.write();
      },
      settled: (row: ValidRow, o: RowOutcome) => {
        // A row never sent (unchanged, NOT_FOUND from the read…) is simply decided again: nothing to record.
        if (o.attempts === 0 && !this.sent.has(row.line)) return;
        this.done.push(o);
        this.sent.delete(row.line);
        this.write().catch(() => {}); // kept in `error`, thrown by flush
      },
    };
  }

  /** Resolves once a write holding the current records is stored. */
  private write(): Promise<void> {
    if (this.next) return this.next;
    const p = this.chain.then(() => {
      this.next = undefined;
      const body: JournalBody = { v: 1, done: this.done, sent: [...this.sent] };
      return this.store.write(this.key, JSON.stringify(body), 'application/json');
    });
    this.next = p;
    this.chain = p.catch((e: unknown) => {
      this.error ??= e;
    });
    return p;
  }

  async flush(): Promise<void> {
    await this.chain;
    if (this.error) throw this.error;
  }
}
