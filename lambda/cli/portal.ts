import type { PortalSession } from '../calls/session.ts';
import { redact } from '../calls/webhook.ts';
import type { RunOptions } from '../config.ts';
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
  try {
    // Loaded only when a portal is configured: an offline dry run never pays for the client's code.
    const { openPortalOrOffline } = await import('../calls/session.ts');
    return { session: await openPortalOrOffline(webhook, options, { onOffline: offline }) };
  } catch (e) {
    // openPortalOrOffline throws only in a real run; a dry run lands here only if the client's code failed to load.
    if (!options.dryRun) return { failed: message(e) };
    offline(e);
    return { session: undefined };
  }
}
