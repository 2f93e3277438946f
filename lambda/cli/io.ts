/** Where the CLI writes; the real process or a test's capture. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** `b24-lead-import: <message>` on stderr. */
export function complain(io: CliIO, message: string): void {
  io.stderr.write(`b24-lead-import: ${message}\n`);
}
