import type { RunOptions } from '../config.ts';
import { standardCatalogue } from '../payloads/fields.ts';
import type { Catalogue, LeadSender, PortalApi } from '../types.ts';
import { createClient, type ClientOptions } from './client.ts';
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
  const catalogue = await loadCatalogue(api, standardCatalogue());
  const planner = options.diff ? createDiffPlanner({ api, options, catalogue }) : blindPlanner();
  const sender = createSender({ api, planner, options });
  return { api, sender, catalogue, host: api.host };
}
