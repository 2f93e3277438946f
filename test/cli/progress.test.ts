import { describe, expect, it } from 'vitest';
import { duration, limitsText, progressReporter, progressText } from '../../lambda/cli/progress.ts';
import type { CliIO } from '../../lambda/cli/io.ts';

function capture(isTTY: boolean): { io: CliIO; text: () => string } {
  let err = '';
  const io: CliIO = {
    stdout: { write: () => true },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
      isTTY,
    },
    env: {},
    cwd: '/',
  };
  return { io, text: () => err };
}

describe('progress off a terminal', () => {
  it('prints a plain line at a steady interval with rows done, the rate and the time left, and the limits once', () => {
    const { io, text } = capture(false);
    let now = 1_000_000;
    let tick: () => void = () => {};
    let stopped = false;
    let cost: number | undefined;
    const p = progressReporter(io, {
      started: now,
      now: () => now,
      intervalMs: 30_000,
      every: (_ms, fn) => {
        tick = fn;
        return () => {
          stopped = true;
        };
      },
      limits: { costPerRow: () => cost, operatingLimit: 480, operatingWindow: 600 },
    });
    p.update({ rows: 0, bytes: 10, total: 1000 });
    now += 30_000;
    p.update({ rows: 1200, bytes: 250, total: 1000 });
    tick();
    tick(); // nothing new: no second line
    cost = 0.2; // the first answers priced the updates
    now += 30_000;
    p.update({ rows: 2400, bytes: 500, total: 1000 });
    tick();
    p.clear();
    const lines = text().trimEnd().split('\n');
    expect(text()).not.toMatch(/[\r\x1b]/);
    expect(lines).toEqual([
      '  1,200 rows · 25% · 40 rows/s · about 1 min 30 s left',
      "  the portal's limits make this run at least 20 min: 4,800 rows × 0.200 s of server time each ÷ 480 s per 600 s",
      '  2,400 rows · 50% · 40 rows/s · about 1 min left',
    ]);
    expect(stopped).toBe(true);
  });

  it('on a terminal keeps the self-overwriting line and says the limits once', () => {
    const { io, text } = capture(true);
    const p = progressReporter(io, {
      started: 0,
      now: () => 10_000,
      limits: { costPerRow: () => 1 / 60, operatingLimit: 8, operatingWindow: 10 },
    });
    p.update({ rows: 100, bytes: 1, total: 10 });
    p.update({ rows: 200, bytes: 2, total: 10 });
    expect(text().match(/the portal's limits/g)).toHaveLength(1);
    expect(text()).toContain('\r\x1b[K');
  });

  it('formats the estimate and durations', () => {
    expect(limitsText(4560, 1 / 60, 8, 10)).toContain('at least 1 min 35 s');
    expect(progressText({ rows: 10, bytes: 100, total: 100 }, 1000)).toBe('  10 rows · 100% · 10 rows/s');
    expect([duration(42), duration(185), duration(7800)]).toEqual(['42 s', '3 min 5 s', '2 h 10 min']);
  });
});
