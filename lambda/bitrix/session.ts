import type { RunOptions } from '../config.ts';
import type { Catalogue, LeadSender, PortalApi } from '../types.ts';

/** Everything a run needs from one portal: the API, the calls stage and the field catalogue. */
export interface PortalSession {
  api: PortalApi;
  sender: LeadSender;
  catalogue: Catalogue;
  /** The portal host, safe to show (the webhook URL is a secret). */
  host: string;
}

/**
 * Opens a session on the portal behind `webhookUrl`: checks the URL, loads the catalogue (preflight),
 * and builds the sender with the planner the options ask for.
 * Wired once the client (bitrix/client.ts), preflight and diff modules land.
 */
export async function openPortal(_webhookUrl: string, _options: RunOptions): Promise<PortalSession> {
  throw new Error('openPortal: the Bitrix24 client is not wired yet');
}
