import { RunHaltedError } from '../errors.ts';
import { hostKind, type Reach, webhookHostProblem } from './http/reach.ts';

/** The redaction lives in a module of its own (the Lambda logs use it too); re-exported for the client's callers. */
export { redact } from '../redact.ts';

/**
 * The incoming-webhook URL `https://<portal>/rest/<userId>/<code>/` is a secret: the code grants the creator's
 * rights. It is parsed and checked once here; everything else sees only `host` (safe to print) and uses
 * `redact` on any text that may have touched the URL (error bodies, network errors).
 */
export interface Webhook {
  /** `https://portal.example/rest/1/abc/`: method names are appended to it. SECRET. */
  base: string;
  /** `portal.example` (with `:port` when not the default): the only part that may be shown. */
  host: string;
  userId: number;
  /** The secret code, kept so redaction can remove it wherever it shows up. SECRET. */
  code: string;
}

/** Loopback hosts: the local sandbox's, allowed in local mode only (see http/reach.ts). */
export function isLoopback(hostname: string): boolean {
  return hostKind(hostname) === 'loopback';
}

/** Outside local mode, with no allowed hosts: the reach of a deployed run. */
const STRICT: Reach = { localMode: false, allowedHosts: [] };

/**
 * Checks the webhook URL's shape and host before any call and splits it. A trailing method (`…/profile.json`)
 * is dropped. The host must be a name (a portal), not an IP address, and never link-local or private; loopback
 * and plain http only in `reach.localMode` (the sandbox). Throws RunHaltedError('INVALID_WEBHOOK'), a
 * configuration error, with a message that never repeats the URL or code.
 *
 * @example parseWebhook('https://acme.bitrix24.ru/rest/1/abc123/') // → { base: '…/rest/1/abc123/', host: 'acme.bitrix24.ru', userId: 1, code: 'abc123' }
 */
export function parseWebhook(url: string, reach: Reach = STRICT): Webhook {
  let u: URL;
  try {
    u = new URL(String(url).trim());
  } catch {
    throw new RunHaltedError('INVALID_WEBHOOK', 'the webhook URL is not a valid URL (expected https://<portal>/rest/<user id>/<code>/)');
  }
  const host = u.host;
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new RunHaltedError('INVALID_WEBHOOK', `the webhook URL for ${host} must use https://`);
  }
  const problem = webhookHostProblem(u, reach);
  if (problem) throw new RunHaltedError('INVALID_WEBHOOK', `the webhook URL for ${host} ${problem}`);
  if (u.username || u.password) {
    throw new RunHaltedError('INVALID_WEBHOOK', `the webhook URL for ${host} must not carry a user name or password`);
  }
  const m = /^\/rest\/(\d+)\/([^/]+)(?:\/[^/]*)?\/?$/.exec(u.pathname);
  if (!m || !/^[1-9]\d*$/.test(m[1]) || m[2].trim() === '') {
    throw new RunHaltedError(
      'INVALID_WEBHOOK',
      `the webhook URL for ${host} does not have the shape https://<portal>/rest/<user id>/<code>/`,
    );
  }
  const code = decodeURIComponent(m[2]);
  return { base: `${u.protocol}//${host}/rest/${m[1]}/${m[2]}/`, host, userId: Number(m[1]), code };
}

/**
 * The webhook base a redirect's `location` names (resolved against `current`): its `/rest/<user>/<code>/`
 * prefix. Undefined when the Location has none: our token path is never copied onto another address.
 */
export function rebase(current: string, location: string): string | undefined {
  const next = new URL(location, current);
  const rest = /^(.*?\/rest\/\d+\/[^/]+\/)/.exec(`${next.pathname}/`);
  return rest ? `${next.protocol}//${next.host}${rest[1]}` : undefined;
}
