import type { CliIO } from './io.ts';

/** What the run reports as it goes (lambda/run/pipeline.ts: rows done, bytes read of `total`). */
export interface Progress {
  rows: number;
  bytes: number;
  total: number;
}

/** The portal's operating budget and what one update costs (measured from the answers), for the estimate. */
export interface LimitsEstimate {
  /** Server seconds of one update, once the first answers tell (undefined before). */
  costPerRow: () => number | undefined;
  /** Seconds of server time per method within `operatingWindow` seconds. */
  operatingLimit: number;
  operatingWindow: number;
}

export interface ProgressOptions {
  /** Local ms the run started. */
  started: number;
  now?: () => number;
  /** Off a terminal: a line every this many ms (default 30 s). */
  intervalMs?: number;
  /** Says once, as soon as the cost is known, how long the portal's limits make the run. */
  limits?: LimitsEstimate;
  /** Timer (tests pass their own); returns a stop function. */
  every?: (ms: number, tick: () => void) => () => void;
}

export interface ProgressReporter {
  update(p: Progress): void;
  clear(): void;
}

/** A self-overwriting line on a terminal; elsewhere (CI, piped to a file) a plain line at a steady interval. */
export function progressReporter(io: CliIO, opts: ProgressOptions): ProgressReporter {
  return io.stderr.isTTY ? progressLine(io, opts) : progressLog(io, opts);
}

/** A single self-overwriting progress line on a terminal, at most 5 times a second. */
export function progressLine(io: CliIO, opts: ProgressOptions | number): ProgressReporter {
  const o = typeof opts === 'number' ? { started: opts } : opts;
  const now = o.now ?? Date.now;
  const said = limitsNote(o);
  let last = 0;
  return {
    update: (p) => {
      const note = said(p);
      if (note) io.stderr.write(`\r\x1b[K${note}\n`);
      const t = now();
      if (t - last < 200) return;
      last = t;
      const pct = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
      io.stderr.write(`\r\x1b[K  ${count(p.rows)} rows · ${pct}% · ${count(rate(p.rows, t - o.started))} rows/s`);
    },
    clear: () => {
      if (last > 0) io.stderr.write('\r\x1b[K');
    },
  };
}

/**
 * Off a terminal: one line per interval with rows done, the rate and the time left (from the share of the file
 * read), written only when something was done since the previous one; no control characters.
 */
export function progressLog(io: CliIO, opts: ProgressOptions): ProgressReporter {
  const now = opts.now ?? Date.now;
  const said = limitsNote(opts);
  let latest: Progress | undefined;
  let printed = -1;
  const tick = () => {
    if (!latest || latest.rows === printed) return;
    printed = latest.rows;
    io.stderr.write(`${progressText(latest, now() - opts.started)}\n`);
  };
  const stop = (opts.every ?? every)(opts.intervalMs ?? 30_000, tick);
  return {
    update: (p) => {
      latest = p;
      const note = said(p);
      if (note) io.stderr.write(`${note}\n`);
    },
    clear: stop,
  };
}

/** `  1,234 rows · 27% · 39 rows/s · about 2 min left`. */
export function progressText(p: Progress, elapsedMs: number): string {
  const share = p.total > 0 ? p.bytes / p.total : 1;
  const parts = [`  ${count(p.rows)} rows`, `${Math.floor(share * 100)}%`, `${count(rate(p.rows, elapsedMs))} rows/s`];
  if (share > 0 && share < 1) parts.push(`about ${duration((elapsedMs / 1000) * ((1 - share) / share))} left`);
  return parts.join(' · ');
}

/**
 * The least time the portal's operating budget lets the run take: rows × the measured cost of one update ÷
 * the budget's rate (limit per window). Rows are estimated from the share of the file read so far.
 */
export function limitsText(rows: number, costPerRow: number, limit: number, window: number): string {
  const seconds = (rows * costPerRow) / (limit / window);
  return (
    `  the portal's limits make this run at least ${duration(seconds)}: ` +
    `${count(rows)} rows × ${costPerRow.toFixed(3)} s of server time each ÷ ${limit} s per ${window} s`
  );
}

/** The limits note, once: when the cost is first known (an update was answered) and the file's size gives the rows. */
function limitsNote(o: ProgressOptions): (p: Progress) => string | undefined {
  let done = !o.limits;
  return (p) => {
    if (done || !o.limits) return undefined;
    const cost = o.limits.costPerRow();
    if (cost === undefined || p.rows === 0 || p.bytes === 0) return undefined;
    done = true;
    const rows = p.total > 0 ? Math.round(p.rows * (p.total / p.bytes)) : p.rows;
    return limitsText(rows, cost, o.limits.operatingLimit, o.limits.operatingWindow);
  };
}

function every(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
}

function rate(rows: number, ms: number): number {
  return Math.round(rows / Math.max(0.001, ms / 1000));
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 42 s, 3 min 5 s, 2 h 10 min. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}
