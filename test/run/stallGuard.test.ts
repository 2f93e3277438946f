import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../lambda/config.ts';
import { NoProgressError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { DEFAULT_MAX_IDLE_CHUNKS, progressGuard } from '../../lambda/run/stallGuard.ts';
import { driveRun, newRunState } from '../../lambda/run/drive.ts';
import type { Checkpoint, RunState } from '../../lambda/run/state.ts';
import { DEFERRED, type LeadSender, type RowOutcome, type SendStats, type ValidRow } from '../../lambda/types.ts';

function state(checkpoint: Partial<Checkpoint>): RunState {
  const s = newRunState({
    runId: 'r1',
    source: { bucket: '', key: 'in.csv', size: 100, etag: '"e"' },
    reportPrefix: '',
    partsPrefix: '.parts/',
    options: parseRunOptions({}),
    startedAt: '2024-01-01T00:00:00.000Z',
  });
  return { ...s, checkpoint: { ...s.checkpoint, header: ['ID', 'TITLE'], offset: 10, line: 2, ...checkpoint } };
}

describe('progressGuard', () => {
  it('counts chunks that finished no row, and resets the count when one moves', () => {
    const a = state({ offset: 10 });
    const idle1 = progressGuard(a, state({ offset: 10, part: 1 }), 3);
    expect(idle1.checkpoint.idleChunks).toBe(1);
    const idle2 = progressGuard(idle1, state({ offset: 10, part: 2, idleChunks: 1 }), 3);
    expect(idle2.checkpoint.idleChunks).toBe(2);
    expect(idle2.checkpoint.halted).toBeUndefined();
    const moved = progressGuard(idle2, state({ offset: 50, part: 3, idleChunks: 2 }), 3);
    expect('idleChunks' in moved.checkpoint).toBe(false);
    expect(moved.checkpoint.offset).toBe(50);
  });

  it('treats the header chunk and the last chunk as moving, and leaves a moving state untouched', () => {
    const first = state({ header: undefined, offset: 0 });
    const afterHeader = state({ offset: 0 }); // every row deferred, but the header was read
    expect(progressGuard(first, afterHeader, 1)).toBe(afterHeader);
    const done = state({ offset: 10, done: true });
    expect(progressGuard(state({ offset: 10, idleChunks: 5 }), done, 1).checkpoint).toEqual(done.checkpoint);
  });

  it('halts the run with NO_PROGRESS at the limit, so the next chunk skips the rest instead of looping', () => {
    const prev = state({ offset: 10, idleChunks: 2 });
    const next = progressGuard(prev, state({ offset: 10, line: 7 }), 3);
    expect(next.checkpoint.idleChunks).toBe(3);
    expect(next.checkpoint.halted?.code).toBe('NO_PROGRESS');
    expect(next.checkpoint.halted?.message).toMatch(/3 chunks.*line 7/);
    expect(next.checkpoint.done).toBe(false);
    // The inputs are not changed (the state machine keeps them for a retry).
    expect(prev.checkpoint.idleChunks).toBe(2);
  });

  it('throws NoProgressError if a halted run still does not move (the backstop against a loop)', () => {
    const halted = { code: 'NO_PROGRESS', message: 'x' };
    expect(() => progressGuard(state({ idleChunks: 3, halted }), state({ halted }), 3)).toThrow(NoProgressError);
    expect(DEFAULT_MAX_IDLE_CHUNKS).toBe(12);
    expect(progressGuard(state({ idleChunks: 10 }), state({}), undefined).checkpoint.idleChunks).toBe(11);
  });
});

/** A portal whose operating block outlasts each chunk for `blockedCalls` calls: every row comes back DEFERRED. */
class BlockedSender implements LeadSender {
  calls = 0;
  written: number[] = [];
  constructor(private readonly blockedCalls: number) {}
  async send(rows: ValidRow[]): Promise<RowOutcome[]> {
    this.calls++;
    const blocked = this.calls <= this.blockedCalls;
    return rows.map((r) => {
      if (blocked)
        return { line: r.line, id: String(r.id), status: 'skipped', errorCode: DEFERRED, message: 'operating block', attempts: 0 };
      this.written.push(r.id);
      return { line: r.line, id: String(r.id), status: 'updated', errorCode: '', message: '', attempts: 1 };
    });
  }
  stats(): SendStats {
    return { requests: this.calls, retries: 0, throttledMs: 0, limitErrors: {} };
  }
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function drive(rows: number, sender: LeadSender, maxIdleChunks?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'progress-'));
  dirs.push(dir);
  const lines = ['ID,TITLE', ...Array.from({ length: rows }, (_, i) => `${i + 1},Lead ${i + 1}`)];
  await writeFile(join(dir, 'in.csv'), lines.join('\n') + '\n');
  const source = new FsStore(dir);
  const output = new FsStore(join(dir, 'out'));
  const initial = newRunState({
    source: { bucket: '', ...(await source.head('in.csv')) },
    reportPrefix: '',
    partsPrefix: '.parts/',
    options: parseRunOptions({ dryRun: false }),
  });
  const seen: RunState[] = [];
  const result = await driveRun(
    initial,
    { source, output, sender, catalogue: standardCatalogue() },
    { chunkRows: 5, onChunk: (s) => void seen.push(s), ...(maxIdleChunks !== undefined ? { maxIdleChunks } : {}) },
  );
  const report = (await readFile(join(dir, 'out', 'report.csv'), 'utf8')).trimEnd().split('\r\n').slice(1);
  return { ...result, report, seen };
}

describe('driveRun: no-progress guard', () => {
  it('a portal that defers every row halts the run with NO_PROGRESS; the rest is reported skipped, never sent', async () => {
    const sender = new BlockedSender(Number.POSITIVE_INFINITY);
    const { summary, report, seen } = await drive(12, sender, 4);
    expect(summary.halted?.code).toBe('NO_PROGRESS');
    expect(summary.error).toBeUndefined();
    expect(summary).toMatchObject({ rows: 12, complete: false, counts: { skipped: 12 } });
    expect(report).toHaveLength(12);
    expect(report.map((l) => Number(l.split(',')[1]))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(sender.written).toEqual([]);
    // The header chunk, then 4 idle chunks (the 4th halts), then the halted chunks skip 5 rows each without sending.
    expect(sender.calls).toBe(5);
    expect(seen.map((s) => s.checkpoint.idleChunks ?? 0)).toEqual([0, 1, 2, 3, 4, 0, 0, 0]);
  });

  it('a block shorter than the limit only delays the run: every row is written once', async () => {
    const sender = new BlockedSender(3);
    const { summary, report } = await drive(12, sender);
    expect(summary.halted).toBeUndefined();
    expect(summary).toMatchObject({ rows: 12, complete: true, counts: { updated: 12 } });
    expect(report).toHaveLength(12);
    expect(sender.written).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
});
