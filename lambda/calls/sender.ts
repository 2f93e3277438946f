import pLimit from 'p-limit';
import type { RunOptions } from '../config.ts';
import { DeferredError, PortalError, RunHaltedError, SendHaltedError, TransientError } from '../errors.ts';
import {
  DEFERRED,
  type LeadFields,
  type LeadSender,
  type PlannedWrite,
  type PortalErrorBody,
  type RowOutcome,
  type SendStats,
  type ValidRow,
  type WritePlanner,
} from '../types.ts';
import { HALT_CODES, type PortalClient, batchBilling, unwrapBatch } from './client.ts';
import { command, type QueryValue } from './encode.ts';
import { rowOutcome } from '../report/outcome.ts';
import type { PortalTime } from './limits/throttle.ts';

/**
 * The calls stage: valid rows → planned writes → `batch` calls of up to 50 crm.lead.update (halt=0) →
 * exactly one outcome per row, in order.
 *
 * - Commands are keyed `r<line>`, so each result or error maps back to its row; `result_error` is always
 *   walked (HTTP 200 hides failures); a key in neither map did not run and is sent again.
 * - A lead appears at most once per batch and never in two batches in flight: a later row for the same ID
 *   waits until the earlier one is final, so rows for one lead apply in file order.
 * - Up to `limits.concurrency` batches in flight (p-limit); pacing is the client's throttle.
 * - Per-command OPERATION_TIME_LIMIT / QUERY_LIMIT_EXCEEDED: the command was refused, so it is sent again
 *   after the block lifts. ERROR_BATCH_LENGTH_EXCEEDED: the batch is split in halves.
 * - Ambiguous failures (5xx, reset, timeout: the write may have been applied): rows that only set values are
 *   sent again (up to 4 times, with backoff); rows that append multifield entries (no ID) are re-planned
 *   first when the planner reads the lead (diff), and with the blind planner reported failed AMBIGUOUS_WRITE.
 * - `attempts` = sends of the row the portal may have acted on (refusals by a limit are not counted).
 * - Rows that cannot start before `deadline` → skipped DEFERRED; once one is deferred no new batch starts.
 *
 * Run-level stop (OVERLOAD_LIMIT, bad credentials…): no new batch starts, batches in flight finish, and
 * send REJECTS with SendHaltedError — a RunHaltedError (code, message) that also carries `outcomes`, one per
 * row: what finished keeps its outcome, everything else is `skipped` with the halt's code. An engine that
 * only knows RunHaltedError still stops correctly; one that reads `outcomes` reports the finished rows exactly.
 */

const MULTIFIELDS = new Set(['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK']);
const MAX_BATCH = 50;
const MAX_TRANSIENT = 4;
const MAX_NOT_RUN = 5;

/** Does a write append multifield entries (entries without an ID are added: replaying duplicates them)? */
export function appendsMultifield(fields: LeadFields): boolean {
  for (const [code, v] of Object.entries(fields)) {
    if (!Array.isArray(v)) continue;
    for (const e of v as unknown[]) {
      if (e && typeof e === 'object') {
        const m = e as { ID?: unknown; DELETE?: unknown };
        if ((m.ID === undefined || m.ID === '') && m.DELETE !== 'Y') return true;
      } else if (MULTIFIELDS.has(code)) return true;
    }
  }
  return false;
}

class BlindPlanner implements WritePlanner {
  readonly blind = true;
  async plan(rows: ValidRow[]): Promise<PlannedWrite[]> {
    return rows.map((row) => {
      if (row.clears.length > 0) {
        return {
          row,
          fields: null,
          changes: [],
          outcome: outcome(
            row,
            'failed',
            'NEEDS_DIFF',
            `clearing ${row.clears.join(', ')} needs diff mode: the lead must be read to delete its entries by ID (re-run with diff on)`,
            0,
          ),
        };
      }
      return { row, fields: row.fields, changes: Object.keys(row.fields) };
    });
  }
}

/** Sends each row's fields as they are, without reading the lead. Rows that clear multifields fail NEEDS_DIFF. */
export function blindPlanner(): WritePlanner {
  return new BlindPlanner();
}

function outcome(
  row: ValidRow,
  status: RowOutcome['status'],
  errorCode: string,
  message: string,
  attempts: number,
  changes?: string[],
): RowOutcome {
  return rowOutcome(row, status, { errorCode, message, attempts, changes });
}

interface Item {
  index: number;
  row: ValidRow;
  /** null: the plan found nothing to write, on the assumption that `after` all apply (held until they are final). */
  fields: LeadFields | null;
  changes: string[];
  appends: boolean;
  attempts: number;
  transient: number;
  notRun: number;
  /** Largest batch this row may go in (halved on ERROR_BATCH_LENGTH_EXCEEDED). */
  cap: number;
  /** Local ms before which it must not be sent again (backoff). */
  notBefore: number;
  /**
   * Earlier rows of this window for the same lead. The diff planner planned this row against the state they
   * leave; if one of them does not end `updated`/`unchanged`, that state never came and this row is planned
   * again (the lead is read afresh) before anything is decided for it.
   */
  after?: Item[];
}

export interface SenderDeps {
  api: PortalClient;
  planner?: WritePlanner;
  options: RunOptions;
  /** Local clock (default Date.now). */
  now?: () => number;
  random?: () => number;
}

export function createSender(deps: SenderDeps): LeadSender {
  return new Sender(deps);
}

class Sender implements LeadSender {
  private readonly api: PortalClient;
  private readonly planner: WritePlanner;
  private readonly options: RunOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly blind: boolean;

  constructor(deps: SenderDeps) {
    this.api = deps.api;
    this.planner = deps.planner ?? blindPlanner();
    this.options = deps.options;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.blind = (this.planner as { blind?: boolean }).blind === true;
  }

  stats(): SendStats {
    return this.api.stats();
  }

  async send(rows: ValidRow[], deadline: number): Promise<RowOutcome[]> {
    if (rows.length === 0) return [];
    let planned: PlannedWrite[];
    try {
      planned = await this.planner.plan(rows, deadline);
    } catch (e) {
      if (e instanceof DeferredError) return rows.map((r) => outcome(r, 'skipped', DEFERRED, 'not started before the chunk deadline', 0));
      throw e;
    }
    const run = new Window(this, rows.length, deadline);
    const byLead = new Map<number, Item[]>();
    planned.forEach((p, index) => {
      const row = rows[index];
      const fields = p.fields && Object.keys(p.fields).length > 0 ? p.fields : null;
      const earlier = this.blind ? undefined : byLead.get(row.id);
      if (p.outcome) run.outcomes[index] = { ...p.outcome, line: row.line, id: String(row.id) };
      else if (this.options.dryRun) run.outcomes[index] = outcome(row, 'valid', '', row.warnings.join('; '), 0, p.changes);
      else if (!fields && !earlier) run.outcomes[index] = outcome(row, 'unchanged', '', row.warnings.join('; '), 0);
      else {
        const it = this.item(index, row, fields, p.changes);
        if (earlier) it.after = [...earlier];
        run.pending.push(it);
        if (!this.blind) byLead.set(row.id, [...(earlier ?? []), it]);
      }
    });
    await run.drive();
    return run.finish(rows);
  }

  item(index: number, row: ValidRow, fields: LeadFields | null, changes: string[]): Item {
    return {
      index,
      row,
      fields,
      changes,
      appends: !!fields && appendsMultifield(fields),
      attempts: 0,
      transient: 0,
      notRun: 0,
      cap: MAX_BATCH,
      notBefore: 0,
    };
  }

  /** Rows whose earlier same-lead row did not apply: plan them again from a fresh read of their leads. */
  async replan(w: Window, items: Item[]): Promise<void> {
    let plans: PlannedWrite[];
    try {
      plans = await this.planner.plan(
        items.map((it) => it.row),
        w.deadline,
      );
    } catch (e) {
      if (e instanceof TransientError) {
        const message = this.api.redact(`reading the lead again failed: ${e.message}`);
        for (const it of items) w.settle(it, outcome(it.row, 'failed', e.code, message, it.attempts));
        return;
      }
      await this.batchFailed(w, items, e);
      return;
    }
    items.forEach((it, i) => {
      const p = plans[i];
      it.after = undefined;
      if (p.outcome) w.settle(it, { ...p.outcome, line: it.row.line, id: String(it.row.id), attempts: it.attempts });
      else if (!p.fields || Object.keys(p.fields).length === 0)
        w.settle(it, outcome(it.row, 'unchanged', '', it.row.warnings.join('; '), it.attempts));
      else {
        it.fields = p.fields;
        it.changes = p.changes;
        it.appends = appendsMultifield(p.fields);
        w.requeue(it);
      }
    });
  }

  /** Sends one batch and settles each of its rows (final outcome, or back to `pending`). */
  async runBatch(w: Window, items: Item[]): Promise<void> {
    const cmd: Record<string, string> = {};
    const byKey = new Map<string, Item>();
    for (const it of items) {
      const key = `r${it.row.line}`;
      byKey.set(key, it);
      cmd[key] = command('crm.lead.update', {
        id: it.row.id,
        fields: (it.fields ?? {}) as unknown as QueryValue,
        params: { REGISTER_SONET_EVENT: this.options.sonet },
      });
    }
    const idempotent = !items.some((it) => it.appends);
    let body: unknown;
    try {
      this.api.countCommands('writes', items.length);
      body = await this.api.post(
        'batch',
        { halt: 0, cmd },
        {
          deadline: w.deadline,
          billing: batchBilling(cmd),
          idempotent,
          onSend: () => items.forEach((it) => (it.attempts += 1)),
        },
      );
    } catch (e) {
      await this.batchFailed(w, items, e);
      return;
    }
    const { result, errors } = unwrapBatch(body);
    const times = ((body as { result?: { result_time?: Record<string, PortalTime> } }).result?.result_time ?? {}) as Record<
      string,
      PortalTime
    >;
    const ambiguous: Item[] = [];
    for (const [key, it] of byKey) {
      const err = errors[key];
      if (err) {
        const verdict = this.commandFailed(w, it, err, times[key]);
        if (verdict === 'ambiguous') ambiguous.push(it);
      } else if (key in result) {
        w.settle(it, outcome(it.row, 'updated', '', it.row.warnings.join('; '), it.attempts, it.changes));
      } else if (++it.notRun > MAX_NOT_RUN) {
        w.settle(
          it,
          outcome(
            it.row,
            'failed',
            'NOT_RUN',
            'the portal did not run the command (missing from the batch answer)',
            it.attempts,
            it.changes,
          ),
        );
      } else {
        w.requeue(it);
      }
    }
    if (ambiguous.length) await this.ambiguous(w, ambiguous, 'INTERNAL_SERVER_ERROR', 'the portal failed while running the command');
  }

  /** One command's error inside a 200 answer. */
  private commandFailed(w: Window, it: Item, err: PortalErrorBody, time: PortalTime | undefined): 'done' | 'ambiguous' {
    const code = String(err.error ?? '');
    const description = this.api.redact(String(err.error_description ?? ''));
    if (code === 'OPERATION_TIME_LIMIT' || code === 'QUERY_LIMIT_EXCEEDED') {
      // Refused before running: not a send the portal acted on.
      it.attempts = Math.max(0, it.attempts - 1);
      this.api.countLimit(code);
      if (code === 'OPERATION_TIME_LIMIT') {
        const reset = time?.operating_reset_at !== undefined ? Number(time.operating_reset_at) : undefined;
        this.api.throttle.blocked('crm.lead.update', reset);
        this.api.throttle.blocked('batch', reset);
      } else this.api.throttle.refused();
      w.requeue(it);
      return 'done';
    }
    if (HALT_CODES.has(code)) {
      w.halt(new RunHaltedError(code, `${this.api.host}: the portal refused the run (${code}${description ? `: ${description}` : ''})`));
      w.settle(it, outcome(it.row, 'skipped', code, description, it.attempts, it.changes));
      return 'done';
    }
    if (code === 'INTERNAL_SERVER_ERROR' || code === 'ERROR_UNEXPECTED_ANSWER') return 'ambiguous';
    w.settle(it, outcome(it.row, 'failed', rowCode(code, description), description, it.attempts, it.changes));
    return 'done';
  }

  private async batchFailed(w: Window, items: Item[], e: unknown): Promise<void> {
    if (e instanceof RunHaltedError) {
      w.halt(e);
      for (const it of items) w.settle(it, outcome(it.row, 'skipped', e.code, e.message, it.attempts, it.changes));
      return;
    }
    if (e instanceof DeferredError) {
      w.stop();
      for (const it of items)
        w.settle(it, outcome(it.row, 'skipped', DEFERRED, 'not started before the chunk deadline (portal limits)', it.attempts));
      return;
    }
    if (e instanceof TransientError) {
      await this.ambiguous(w, items, e.code, e.message);
      return;
    }
    if (e instanceof PortalError) {
      if (e.code === 'ERROR_BATCH_LENGTH_EXCEEDED' && items.length > 1) {
        const half = Math.ceil(items.length / 2);
        for (const it of items) {
          it.cap = Math.min(it.cap, half);
          w.requeue(it);
        }
        return;
      }
      const description = this.api.redact(e.description);
      for (const it of items) w.settle(it, outcome(it.row, 'failed', rowCode(e.code, description), description, it.attempts, it.changes));
      return;
    }
    const msg = this.api.redact(e instanceof Error ? e.message : String(e));
    w.halt(new RunHaltedError('SENDER_ERROR', `unexpected error while sending to ${this.api.host}: ${msg}`));
    for (const it of items) w.settle(it, outcome(it.row, 'skipped', 'SENDER_ERROR', msg, it.attempts, it.changes));
  }

  /** The write may have been applied. Sets go again; appends are re-planned (diff) or reported (blind). */
  private async ambiguous(w: Window, items: Item[], code: string, message: string): Promise<void> {
    const replan: Item[] = [];
    for (const it of items) {
      it.transient += 1;
      if (it.transient > MAX_TRANSIENT) {
        w.settle(it, outcome(it.row, 'failed', code, `${message} (gave up after ${it.attempts} sends)`, it.attempts, it.changes));
      } else if (!it.appends) {
        it.notBefore = this.now() + this.backoff(it.transient);
        w.requeue(it);
      } else if (this.blind) {
        w.settle(
          it,
          outcome(
            it.row,
            'failed',
            'AMBIGUOUS_WRITE',
            `${code}: the update may have been applied; re-run (diff mode re-reads first)`,
            it.attempts,
            it.changes,
          ),
        );
      } else replan.push(it);
    }
    if (!replan.length) return;
    if (code === 'TIMEOUT') {
      // A timed-out write may still be running on the portal and land after an immediate re-read, which would
      // then plan the same entries again (duplicates). Wait as long again as the timeout before reading; past
      // the deadline the rows are deferred, and the next chunk re-reads them much later.
      const settle = this.api.timeoutMs;
      if (this.now() + settle > w.deadline) {
        w.stop();
        for (const it of replan)
          w.settle(it, outcome(it.row, 'skipped', DEFERRED, 'a timed-out write must settle before the lead is read again', it.attempts));
        return;
      }
      await this.api.sleep(settle);
    }
    let plans: PlannedWrite[];
    try {
      plans = await this.planner.plan(
        replan.map((it) => it.row),
        w.deadline,
      );
    } catch (e) {
      await this.batchFailed(w, replan, e);
      return;
    }
    replan.forEach((it, i) => {
      const p = plans[i];
      if (p.outcome) w.settle(it, { ...p.outcome, attempts: it.attempts });
      else if (!p.fields || Object.keys(p.fields).length === 0) {
        // The lead already holds what the row asked for: the ambiguous send was applied.
        w.settle(it, outcome(it.row, 'updated', '', it.row.warnings.join('; '), it.attempts, it.changes));
      } else {
        it.fields = p.fields;
        it.appends = appendsMultifield(p.fields);
        it.notBefore = this.now() + this.backoff(it.transient);
        w.requeue(it);
      }
    });
  }

  private backoff(n: number): number {
    return Math.round(Math.min(10_000, 500 * 2 ** (n - 1)) * (0.8 + 0.4 * this.random()));
  }

  get concurrency(): number {
    return this.options.limits.concurrency;
  }

  get clock(): () => number {
    return this.now;
  }
}

/** The portal's code for a row, or ours when the portal leaves it empty (crm's "Not found"…). */
export function rowCode(code: string, description: string): string {
  if (code) return code;
  if (/not found/i.test(description)) return 'NOT_FOUND';
  if (/id is not defined or invalid/i.test(description)) return 'INVALID_ID';
  if (/access denied/i.test(description)) return 'ACCESS_DENIED';
  return 'PORTAL_ERROR';
}

/** One `send` call's scheduling state. */
class Window {
  readonly outcomes: (RowOutcome | undefined)[];
  /** Waiting rows, kept in file order. */
  pending: Item[] = [];
  private readonly inflightIds = new Set<number>();
  private active = 0;
  private stopped = false;
  private halted: RunHaltedError | undefined;
  private wake: () => void = () => {};

  constructor(
    private readonly s: Sender,
    size: number,
    readonly deadline: number,
  ) {
    this.outcomes = new Array<RowOutcome | undefined>(size);
  }

  settle(it: Item, o: RowOutcome): void {
    this.outcomes[it.index] = o;
  }

  requeue(it: Item): void {
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].index > it.index) i--;
    this.pending.splice(i, 0, it);
  }

  halt(e: RunHaltedError): void {
    this.halted ??= e;
    this.stopped = true;
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * The next batch: rows in file order, one per lead, none whose lead is in flight, none backing off. A row
   * planned after earlier rows of its lead is decided only once they are final: as planned when they all
   * applied (a row with nothing to write is then `unchanged`), else it goes to `stale` to be planned again.
   */
  private form(now: number): { batch: Item[]; stale: Item[] } {
    const blocked = new Set(this.inflightIds);
    const batch: Item[] = [];
    const stale: Item[] = [];
    const done = new Set<Item>();
    let cap = MAX_BATCH;
    for (const it of this.pending) {
      if (blocked.has(it.row.id)) continue;
      if (it.after) {
        // No earlier row of this lead is pending or in flight here (it would have blocked the lead): all are final.
        const applied = it.after.every((e) => ['updated', 'unchanged'].includes(this.outcomes[e.index]?.status ?? ''));
        if (!applied) {
          blocked.add(it.row.id);
          stale.push(it);
          done.add(it);
          continue;
        }
        it.after = undefined;
        if (!it.fields) {
          this.settle(it, rowOutcome(it.row, 'unchanged'));
          done.add(it);
          continue;
        }
      }
      blocked.add(it.row.id);
      if (it.notBefore > now || batch.length >= it.cap) continue;
      batch.push(it);
      done.add(it);
      cap = Math.min(cap, it.cap);
      if (batch.length >= cap) break;
    }
    this.pending = this.pending.filter((it) => !done.has(it));
    return { batch, stale };
  }

  async drive(): Promise<void> {
    const limit = pLimit(this.s.concurrency);
    const running = new Set<Promise<void>>();
    for (;;) {
      const now = this.s.clock();
      if (!this.stopped && now >= this.deadline) this.stopped = true;
      if (this.stopped || (this.pending.length === 0 && this.active === 0)) break;
      const { batch, stale } = this.active < this.s.concurrency ? this.form(now) : { batch: [], stale: [] };
      const launch = (items: Item[], task: () => Promise<void>) => {
        this.active += 1;
        for (const it of items) this.inflightIds.add(it.row.id);
        const p: Promise<void> = limit(task).finally(() => {
          this.active -= 1;
          for (const it of items) this.inflightIds.delete(it.row.id);
          running.delete(p);
          this.wake();
        });
        running.add(p);
      };
      if (stale.length) launch(stale, () => this.s.replan(this, stale));
      if (batch.length) launch(batch, () => this.s.runBatch(this, batch));
      if (stale.length || batch.length) continue;
      if (this.pending.length === 0 && this.active === 0) break;
      // Nothing can start now: wait for a batch to finish or the earliest backoff to end.
      const soonest = Math.min(...this.pending.map((it) => it.notBefore).filter((t) => t > now), Infinity);
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(soonest) ? setTimeout(resolve, Math.max(1, soonest - now)) : undefined;
        this.wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(running);
  }

  finish(rows: ValidRow[]): RowOutcome[] {
    const out = rows.map((row, i) => {
      const o = this.outcomes[i];
      if (o) return o;
      const attempts = this.pending.find((it) => it.index === i)?.attempts ?? 0;
      if (this.halted) return outcome(row, 'skipped', this.halted.code, this.halted.message, attempts);
      return outcome(row, 'skipped', DEFERRED, 'not started before the chunk deadline', attempts);
    });
    if (this.halted) throw new SendHaltedError(this.halted.code, this.halted.message, out);
    return out;
  }
}
