import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { PortalSession } from '../calls/session.ts';
import { redact } from '../calls/webhook.ts';
import type { RunOptions } from '../config.ts';
import { UsageError } from '../errors.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import { exitCodeFor } from '../report/lines.ts';
import { driveRun } from '../run/drive.ts';
import type { RunState } from '../run/state.ts';
import { localInputProblem, openLocalInput, openS3Input, resolveTarget, type RunInput, type Target } from './input.ts';
import { type CliIO, complain, processIO } from './io.ts';
import { type Parsed, parseCli } from './parse.ts';
import { openRunPortal } from './portal.ts';
import { type LimitsEstimate, progressReporter } from './progress.ts';
import { printSummary } from './summary.ts';
import { prepareUndo } from './undo.ts';
import { USAGE } from './usage.ts';

// This module's API from before the CLI was split by job (tests, the bench and bin/ import it from here).
export type { CliIO } from './io.ts';
export { decodeMapping } from './mapping.ts';
export { defaultOutDir, outputClash } from './outDir.ts';
export { parseCli } from './parse.ts';
export { USAGE } from './usage.ts';

const NO_WEBHOOK = "BITRIX24_WEBHOOK_URL is not set. Set it to the portal's inbound webhook URL, or use --dry-run to validate offline.";

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  // The SDK warns on every run that its 2027 releases need Node 22: the lockfile pins releases that run on 20
  // (Lambda runs 22), so the warning is noise for a person running the tool.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const undo = argv[0] === 'undo';
  const parsed = await parseOrExplain(undo ? argv.slice(1) : argv, io);
  if (typeof parsed === 'number') return parsed;
  if (!undo) return runParsed(parsed, io);
  const prepared = await prepareUndo(parsed, io.cwd);
  if ('problem' in prepared) {
    complain(io, prepared.problem);
    return 2;
  }
  return runParsed(prepared, io);
}

/** The parsed command line, or the exit code once --help or a usage error is printed. */
async function parseOrExplain(argv: string[], io: CliIO): Promise<Parsed | number> {
  let parsed: Parsed | 'help';
  try {
    parsed = await parseCli(argv, io.cwd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    complain(io, e.message);
    io.stderr.write('Run with --help for usage.\n');
    return 2;
  }
  if (parsed !== 'help') return parsed;
  io.stdout.write(USAGE);
  return 0;
}

/** Checks the input and the webhook, opens the input and the portal, runs. */
async function runParsed(parsed: Parsed, io: CliIO): Promise<number> {
  const { options } = parsed;
  const target = resolveTarget(parsed, io.cwd);
  const webhook = io.env.BITRIX24_WEBHOOK_URL?.trim() || undefined;
  const problem = (target.s3 ? undefined : await localInputProblem(target)) ?? (!webhook && !options.dryRun ? NO_WEBHOOK : undefined);
  if (problem !== undefined) {
    complain(io, problem);
    return 2;
  }
  const input = await openInput(target, options, io);
  if (typeof input === 'number') return input;
  try {
    const portal = await openRunPortal(webhook, options, io);
    if ('failed' in portal) return await portalFailed(io, input, portal.failed);
    return await run(input, portal.session, webhook, io);
  } finally {
    // A workbook's converted copy of the user's leads goes when the run ends, not when the process does.
    await input.close?.();
  }
}

/** The run's stores and state; exit 2 (the reason printed) when an S3 object cannot be opened. */
async function openInput(target: Target, options: RunOptions, io: CliIO): Promise<RunInput | number> {
  if (!target.s3) return openLocalInput(target, options);
  try {
    return await openS3Input(target, options);
  } catch (e) {
    complain(io, `cannot read ${target.file}: ${(e as Error).name}: ${(e as Error).message}`);
    return 2;
  }
}

/**
 * A real run whose portal did not open: every row still gets its line (`skipped`, the reason named: the file
 * is read without the portal), summary.json says PORTAL_UNAVAILABLE, exit 1.
 */
async function portalFailed(io: CliIO, input: RunInput, message: string): Promise<number> {
  complain(io, `could not open the portal: ${message}`);
  const failed = { code: 'PORTAL_UNAVAILABLE', message };
  const { summary } = await driveRun(
    input.state,
    { source: input.source, output: input.output, catalogue: standardCatalogue() },
    { failed },
  );
  printSummary(io, summary, input.where);
  return 1;
}

/** Drives the run to its end (a progress line on a terminal) and prints the summary. */
async function run(input: RunInput, session: PortalSession | undefined, webhook: string | undefined, io: CliIO): Promise<number> {
  // On a terminal a self-overwriting line; elsewhere (CI, a log file) a plain line every 30 s. Both say once how
  // long the portal's limits make the run, as soon as the first answers give the cost of an update.
  const progress = progressReporter(io, {
    started: Date.now(),
    ...(session && !input.state.options.dryRun ? { limits: limitsOf(session, input) } : {}),
  });
  const { summary } = await driveRun(
    input.state,
    {
      source: input.source,
      output: input.output,
      // In a dry run the sender reads and plans but never writes: plan.csv previews each row's changes.
      ...(session ? { sender: session.sender } : {}),
      catalogue: session?.catalogue ?? standardCatalogue(),
      onProgress: progress.update,
    },
    { onWait: (until, state) => complain(io, waitMessage(until, state)), ...(io.sleep ? { sleep: io.sleep } : {}) },
  );
  progress.clear();
  if (summary.error) summary.error.message = redact(summary.error.message, webhook ?? '');
  printSummary(io, summary, input.where);
  return exitCodeFor(summary);
}

/** The run's budget and the measured cost of an update, for the estimate of how long the limits make the run. */
function limitsOf(session: PortalSession, input: RunInput): LimitsEstimate {
  const { limits } = input.state.options;
  const api = session.api as { throttle?: { budget(method: string): { costPerCommand?: number } } };
  return {
    costPerRow: () => api.throttle?.budget('crm.lead.update').costPerCommand,
    operatingLimit: limits.operatingLimit,
    operatingWindow: limits.operatingWindow,
  };
}

/** What the CLI says while it waits out an unreachable portal. */
function waitMessage(until: number, state: RunState): string {
  const u = state.checkpoint.unreachable;
  const since = u ? ` since ${new Date(u.since).toISOString()} (${u.code})` : '';
  return `the portal is unreachable${since}; next try at ${new Date(until).toISOString()} (--outage-wait ${Math.round(state.options.outageWaitMs / 1000)} s)`;
}

/**
 * Run directly (`tsx lambda/cli/main.ts …`); bin/b24-lead-import.js imports `main` instead. The name check keeps
 * a bundle that merely contains this module (benchmarks, tools) from running the CLI on its own arguments.
 */
function isMain(): boolean {
  try {
    return (
      process.argv[1] !== undefined &&
      import.meta.url.endsWith('/cli/main.ts') &&
      import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
    );
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`b24-lead-import: ${redact((e as Error)?.message ?? String(e), process.env.BITRIX24_WEBHOOK_URL ?? '')}\n`);
      process.exitCode = 1;
    },
  );
}
