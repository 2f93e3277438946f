import type { RunOptions } from '../config.ts';
import { ConfigurationError } from '../errors.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import type { Catalogue, LeadSender, PortalApi } from '../types.ts';
import { createClient, type ClientOptions } from './client.ts';
import { matchSpecOf } from '../payloads/header.ts';
import { revertPlanner } from '../undo/planner.ts';
import { matchingPlanner } from './matching/planner.ts';
import { createDiffPlanner } from './planning/diff.ts';
import { loadCatalogue } from './preflight.ts';
import { blindPlanner, createSender } from './sender.ts';

/** Everything a run needs from one portal: the API, the calls stage and the field catalogue. */
export interface PortalSession {
  api: PortalApi;
  sender: LeadSender;
  catalogue: Catalogue;
  /** The portal host, safe to show (the webhook URL is a secret). */
  host: string;
}

/**
 * Opens a session on the portal behind `webhookUrl`: checks the URL (client), loads the catalogue from the
 * live portal (preflight: unknown UF columns, read-only fields, enumeration labels, custom stages), and builds
 * the sender with the planner the options ask for (diff by default; `--no-diff` sends rows as they are).
 *
 * @example
 * const { sender, catalogue } = await openPortal(process.env.BITRIX24_WEBHOOK_URL!, options);
 */
export async function openPortal(
  webhookUrl: string,
  options: RunOptions,
  extra: Omit<ClientOptions, 'webhookUrl' | 'limits'> = {},
): Promise<PortalSession> {
  const api = createClient({ ...extra, webhookUrl, limits: options.limits });
  // The user list rides in the preflight's one batch (responsible person by name or e-mail); more pages only past 50 users.
  const catalogue = await loadCatalogue(api, standardCatalogue(), { users: true });
  const write = options.undo
    ? revertPlanner(api, catalogue, options.phoneCountry, extra.now)
    : options.diff
      ? createDiffPlanner({ api, options, catalogue })
      : blindPlanner();
  const match = matchSpecOf(options.match, catalogue);
  const planner = match ? matchingPlanner(write, api, match, extra.now) : write;
  // One clock for the client and the sender (the outage rule times failures on it).
  const sender = createSender({ api, planner, options, ...(extra.now ? { now: extra.now } : {}) });
  return { api, sender, catalogue, host: api.host };
}

/** How `openPortalOrOffline` opens the portal and reports a dry run that goes on without it. */
export interface PortalOrOfflineHooks {
  /** Opens the session (default `openPortal`); injectable so tests can wrap the sender. */
  open?: (webhookUrl: string, options: RunOptions) => Promise<PortalSession>;
  /** Told why a dry run goes on offline: the portal could not be opened (not called when there is no webhook). */
  onOffline?: (err: unknown) => void;
  /** The ConfigurationError's message when a real run has no webhook (it names where the caller's webhook comes from). */
  missingMessage?: string;
}

/**
 * The one policy for a run's portal: with a webhook, open it; a dry run that cannot open it goes on offline
 * against the built-in field list (undefined, after `onOffline`), a real run cannot (the open error is thrown
 * as is). Without a webhook a dry run is offline and a real run is a ConfigurationError (no retry helps).
 *
 * @example
 * const session = await openPortalOrOffline(url, options, { onOffline: (e) => log.warn('offline dry run', errorFields(e)) });
 * const catalogue = session?.catalogue ?? standardCatalogue();
 */
export async function openPortalOrOffline(
  webhookUrl: string | undefined,
  options: RunOptions,
  hooks: PortalOrOfflineHooks = {},
): Promise<PortalSession | undefined> {
  if (!webhookUrl) {
    if (options.dryRun) return undefined;
    throw new ConfigurationError(hooks.missingMessage ?? 'no portal webhook is configured: only dry runs can run');
  }
  try {
    return await (hooks.open ?? openPortal)(webhookUrl, options);
  } catch (err) {
    if (!options.dryRun) throw err;
    hooks.onOffline?.(err);
    return undefined;
  }
}
