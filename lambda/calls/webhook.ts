import { RunHaltedError } from '../errors.ts';

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

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts plain http:// is allowed for (the local sandbox). */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/**
 * Checks the webhook URL's shape before any call and splits it. A trailing method (`…/profile.json`) is
 * dropped. Throws RunHaltedError('INVALID_WEBHOOK') with a message that never repeats the URL or code.
 *
 * @example parseWebhook('https://acme.bitrix24.ru/rest/1/abc123/') // → { base: '…/rest/1/abc123/', host: 'acme.bitrix24.ru', userId: 1, code: 'abc123' }
 */
export function parseWebhook(url: string): Webhook {
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
  if (u.protocol === 'http:' && !isLoopback(u.hostname)) {
    throw new RunHaltedError(
      'INVALID_WEBHOOK',
      `the webhook URL for ${host} uses plain http://; Bitrix24 portals require https:// (http is only allowed for a local sandbox on 127.0.0.1/localhost)`,
    );
  }
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

/** The base URL to use after the portal answered 302 with `location` for a call to `current + method`. */
export function rebase(current: string, location: string): string {
  const next = new URL(location, current);
  const path = next.pathname;
  const rest = /^(.*\/rest\/\d+\/[^/]+\/)/.exec(path);
  if (rest) return `${next.protocol}//${next.host}${rest[1]}`;
  // The location names another host only: keep our path on it.
  const old = new URL(current);
  return `${next.protocol}//${next.host}${old.pathname}`;
}
