import type { PortalSession } from '../calls/session.ts';
import { redact } from '../calls/webhook.ts';
import type { RunOptions } from '../config.ts';
import { OUTAGE_RETRY_MS } from '../run/outage.ts';
import { type CliIO, complain } from './io.ts';

/** The run's portal: a session or none (an offline dry run), or why a real run could not open it (secret redacted). */
export type PortalOutcome = { session: PortalSession | undefined } | { failed: string };

/**
 * Opens the portal behind `webhook` through openPortalOrOffline (a dry run that cannot open it goes on offline,
 * with a warning). Without a webhook only a dry run gets here: main refuses a real run first (exit 2).
 */
export async function openRunPortal(webhook: string | undefined, options: RunOptions, io: CliIO): Promise<PortalOutcome> {
  if (!webhook) return { session: undefined };
  const message = (e: unknown) => redact((e as Error).message ?? String(e), webhook);
  const offline = (e: unknown) =>
    complain(io, `warning: could not open the portal (${message(e)}); dry run continues offline with the built-in field list`);
  const started = Date.now();
  let slept = 0; // the run's clock may be a test's: count the waits too
  for (;;) {
    try {
      // Loaded only when a portal is configured: an offline dry run never pays for the client's code.
      const { openPortalOrOffline } = await import('../calls/session.ts');
      return { session: await openPortalOrOffline(webhook, options, { onOffline: offline }) };
    } catch (e) {
      // A portal that is down at the start is waited out as one that goes down mid-run (--outage-wait).
      const waited = Math.max(Date.now() - started, slept);
      if (!options.dryRun && (await isOutage(e)) && waited + OUTAGE_RETRY_MS <= options.outageWaitMs) {
        complain(io, `the portal is unreachable (${message(e)}); trying again in ${OUTAGE_RETRY_MS / 1000} s`);
        await (io.sleep ?? timer)(OUTAGE_RETRY_MS);
        slept += OUTAGE_RETRY_MS;
        continue;
      }
      // openPortalOrOffline throws only in a real run; a dry run lands here only if the client's code failed to load.
      if (!options.dryRun) return { failed: message(e) };
      offline(e);
      return { session: undefined };
    }
  }
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function isOutage(e: unknown): Promise<boolean> {
  const { isOutageFailure } = await import('../calls/send/outage.ts');
  return isOutageFailure(e);
}
