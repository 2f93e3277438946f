import { formatOutcome, formatPlan, formatRejected, formatRejectedSafe, isRejected } from '../report/lines.ts';
import type { TextEncoding } from '../rows/text.ts';
import type { ObjectStore } from '../stores/store.ts';
import type { RowOutcome } from '../types.ts';
import { formatChange, jsonChange } from '../report/changeLog.ts';
import { partKey } from './keys.ts';
import { PartWriter } from './partWriter.ts';

/**
 * The parts one chunk writes: its report part, its rejected part (in the source's encoding) and, with a sender,
 * its plan part. Finalize joins each kind, in part order, into the run's files.
 */
export class ChunkParts {
  private readonly report: PartWriter;
  private readonly rejected: PartWriter;
  private readonly rejectedSafe: PartWriter;
  private readonly plan: PartWriter | undefined;
  /** The change log's two forms (a real run in diff mode): changes.csv for people, changes.jsonl for undo. */
  private readonly changes: PartWriter | undefined;
  private readonly changesJson: PartWriter | undefined;
  private readonly delimiter: string;

  constructor(
    output: ObjectStore,
    partsPrefix: string,
    part: number,
    format: { encoding: TextEncoding; delimiter: string },
    withPlan: boolean,
    withChanges = false,
  ) {
    this.delimiter = format.delimiter;
    this.report = new PartWriter(output, partKey(partsPrefix, part, 'report'), 'utf-8');
    this.rejected = new PartWriter(output, partKey(partsPrefix, part, 'rejected'), format.encoding);
    this.rejectedSafe = new PartWriter(output, partKey(partsPrefix, part, 'rejected-safe'), 'utf-8');
    this.plan = withPlan ? new PartWriter(output, partKey(partsPrefix, part, 'plan'), 'utf-8') : undefined;
    this.changes = withChanges ? new PartWriter(output, partKey(partsPrefix, part, 'changes'), 'utf-8') : undefined;
    this.changesJson = withChanges ? new PartWriter(output, partKey(partsPrefix, part, 'changes-json'), 'utf-8') : undefined;
  }

  /**
   * One row's lines: its report line, its raw record when rejected, its plan line. Returns a promise only when
   * there is something to wait for (a store behind, a rejected or plan line): no await per row otherwise.
   */
  add(outcome: RowOutcome, raw: string): Promise<void> | undefined {
    const wrote = this.report.add(formatOutcome(outcome));
    const rejected = isRejected(outcome.status);
    if (!rejected && !this.plan && !outcome.log) return wrote;
    return this.addRest(wrote, outcome, raw, rejected);
  }

  private async addRest(wrote: Promise<void> | undefined, outcome: RowOutcome, raw: string, rejected: boolean): Promise<void> {
    if (wrote) await wrote;
    if (rejected) {
      await this.rejected.add(formatRejected(raw));
      await this.rejectedSafe.add(formatRejectedSafe(raw, this.delimiter));
    }
    if (this.plan) await this.plan.add(formatPlan(outcome));
    if (outcome.log && this.changes && this.changesJson) {
      for (const e of outcome.log) {
        await this.changes.add(formatChange(e));
        await this.changesJson.add(jsonChange(e));
      }
    }
  }

  async end(): Promise<void> {
    await this.report.end();
    await this.rejected.end();
    await this.rejectedSafe.end();
    await this.plan?.end();
    await this.changes?.end();
    await this.changesJson?.end();
  }

  /** Stops every part after a failure; resolves once the stores gave up on them (the chunk is run again). */
  abort(err: Error): Promise<unknown> {
    this.report.abort(err);
    this.rejected.abort(err);
    this.rejectedSafe.abort(err);
    this.plan?.abort(err);
    this.changes?.abort(err);
    this.changesJson?.abort(err);
    return Promise.allSettled([
      this.report.done,
      this.rejected.done,
      this.rejectedSafe.done,
      this.plan?.done,
      this.changes?.done,
      this.changesJson?.done,
    ]);
  }
}
