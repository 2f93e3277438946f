import type { CliIO } from './io.ts';

/** A single self-overwriting progress line on a terminal, at most 5 times a second. */
export function progressLine(io: CliIO, started: number) {
  let last = 0;
  return {
    update: (p: { rows: number; bytes: number; total: number }) => {
      const t = Date.now();
      if (t - last < 200) return;
      last = t;
      const pct = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
      const rate = Math.round(p.rows / Math.max(0.001, (t - started) / 1000));
      io.stderr.write(`\r\x1b[K  ${p.rows.toLocaleString('en-US')} rows · ${pct}% · ${rate.toLocaleString('en-US')} rows/s`);
    },
    clear: () => {
      if (last > 0) io.stderr.write('\r\x1b[K');
    },
  };
}
