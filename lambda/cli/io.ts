/** Where the CLI writes; the real process or a test's capture. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Waits `ms` (default a timer; tests of the outage wait pass their own). */
  sleep?: (ms: number) => Promise<void>;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** `b24-lead-import: <message>` on stderr. */
export function complain(io: CliIO, message: string): void {
  io.stderr.write(`b24-lead-import: ${message}\n`);
}
