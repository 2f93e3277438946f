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
 *
 * `--match`: a keyed row's lead is known only once the window is planned, and a key's answer may change with the
 * very writes this chunk makes (a row of the file, or another writer, moves the key). So each record also holds
 * the lead each sent keyed row was sent to, and every answer the window's rows were planned with (key → leads):
 * a retry gives a sent row the same lead without looking its key up again (the journal wins over the run's key
 * table for those lines), and its key table starts from those answers, so the rows of the retried chunk that
 * were not sent go to the same leads too.
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
  /** `--match`: [line, lead] of each keyed row sent. */
  leads?: Array<[number, number]>;
  /** `--match`: [key, leads] of every key the window's rows were planned with (keyTable.ts's answers). */
  keys?: Array<[string, number[]]>;
}

/** What earlier attempts recorded for rows at or after the chunk's first line. */
export interface Journaled {
  done: Map<number, RowOutcome>;
  /** Sent, no answer recorded: the portal may have applied them. */
  sent: Set<number>;
  /** `--match`: the lead each sent keyed row went to, by line. */
  leads: Map<number, number>;
  /** `--match`: the key answers the earlier attempts planned with (the first recorded stays). */
  keys: Map<string, number[]>;
}

/** Reads the journal for rows from `fromLine` on and deletes the objects that only cover rows before it. */
export async function readJournal(store: ObjectStore, partsPrefix: string, fromLine: number): Promise<Journaled> {
  const prefix = journalPrefix(partsPrefix);
  const keys = (await store.list(prefix)).filter((k) => k.startsWith(prefix) && KEY.test(k));
  const behind = keys.filter((k) => Number(KEY.exec(k)![2]) < fromLine);
  const live = keys.filter((k) => !behind.includes(k));
  const out: Journaled = { done: new Map(), sent: new Set(), leads: new Map(), keys: new Map() };
  for (const k of live) {
    const body = JSON.parse(await readAll(store, k)) as JournalBody;
    for (const o of body.done) out.done.set(o.line, o);
    for (const line of body.sent) out.sent.add(line);
    for (const [line, id] of body.leads ?? []) out.leads.set(line, id);
    for (const [key, leads] of body.keys ?? []) if (!out.keys.has(key)) out.keys.set(key, leads);
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

  /** `--match`: the key answers earlier attempts of this chunk planned with, for the run's key table. */
  keyAnswers(): ReadonlyMap<string, readonly number[]> {
    return this.earlier.keys;
  }

  /**
   * Settles the window's rows an earlier attempt finished (their recorded outcome, not sent again), gives each
   * keyed row an earlier attempt sent the lead it was sent to, and returns the hooks for sending the rest.
   */
  prepare(w: Window): SendHooks {
    const { done, sent, leads } = this.earlier;
    if (done.size > 0) {
      for (const item of w.items) {
        const o = item.row ? done.get(item.line) : undefined;
        if (o) item.outcome = withWarnings(o, item.row!);
      }
      w.rows = w.rows.filter((r) => !done.has(r.line));
    }
    const maybeApplied = new Set(w.rows.filter((r) => sent.has(r.line)).map((r) => r.line));
    for (const r of w.rows) {
      const lead = r.key && r.id === 0 && maybeApplied.has(r.line) ? leads.get(r.line) : undefined;
      if (lead !== undefined) r.id = lead; // not looked up again: the key may have left that lead since
    }
    if (w.rows.length === 0) return { maybeApplied };
    const key = `${journalPrefix(this.partsPrefix)}${pad(w.rows[0].line)}-${pad(w.rows.at(-1)!.line)}-${this.nonce}.json`;
    const wj = new WindowJournal(this.store, key, w.rows);
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
  /** `--match`: the lead each keyed row was sent to. */
  private readonly leads = new Map<number, number>();
  private chain: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private error: unknown;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    /** The window's rows: planned (keys answered, leads set) before the first of them is sent. */
    private readonly rows: readonly ValidRow[],
  ) {}

  hooks(): SendHooks {
    return {
      sending: (rows: readonly ValidRow[]) => {
        for (const r of rows) {
          this.sent.add(r.line);
          if (r.key && r.id > 0) this.leads.set(r.line, r.id);
        }
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
      const body: JournalBody = { v: 1, done: this.done, sent: [...this.sent], ...this.matched() };
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

  /** `--match`: the sent rows' leads and the window's key answers (nothing for a file matched by ID). */
  private matched(): Pick<JournalBody, 'leads' | 'keys'> {
    const keys = new Map<string, number[]>();
    for (const r of this.rows) {
      if (!r.key || keys.has(r.key.key)) continue;
      const leads = r.id > 0 ? [r.id] : r.key.found;
      if (leads) keys.set(r.key.key, [...leads]);
    }
    if (keys.size === 0 && this.leads.size === 0) return {};
    return { leads: [...this.leads], keys: [...keys] };
  }
}
