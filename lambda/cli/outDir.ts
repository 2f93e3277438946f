import { realpathSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { PLAN_FILE, REJECTED_FILE, REPORT_FILE, SUMMARY_FILE } from '../report/lines.ts';

/** `leads.csv` → `leads-report/` beside it. */
export function defaultOutDir(file: string): string {
  const name = basename(file, extname(file));
  return join(dirname(file), `${name}-report`);
}

/**
 * The report file that would land on the input itself (`rejected.csv` fixed and re-run with `--out` set to
 * its own folder), or undefined. The input is read whole before the report is written, so the user's file
 * would be silently replaced.
 */
export function outputClash(file: string, outDir: string): string | undefined {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const input = real(file);
  const dir = real(outDir);
  return [REPORT_FILE, REJECTED_FILE, SUMMARY_FILE, PLAN_FILE].find((name) => resolve(dir, name) === input);
}
