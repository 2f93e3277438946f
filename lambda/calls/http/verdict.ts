import type { PortalErrorBody } from '../../types.ts';
import { AnswerTooLargeError } from './bodyCap.ts';
import { errorBody } from './errorText.ts';

/**
 * The one table of what a portal error code means for the run, used for whole answers (`classify`) and for
 * single commands inside a batch answer (`codeKind`), by the client and the sender alike.
 */

/**
 * The portal's answers to a webhook it does not accept (a wrong, replaced or deleted code): the run halts, but a
 * webhook rotated in the secret may be the cure (lambda/aws/rotation.ts reads it again once on these).
 */
export const REFUSED_WEBHOOK_CODES: ReadonlySet<string> = new Set(['INVALID_CREDENTIALS', 'NO_AUTH_FOUND']);

export const isRefusedWebhook = (code: string): boolean => REFUSED_WEBHOOK_CODES.has(code);

/**
 * Codes after which no call can succeed in this run. On the real server every webhook-auth failure is HTTP 401
 * (authorization_error: the webhook's owner was deactivated) and PORTAL_DELETED 403 (SRV rest.php, apauth).
 */
export const HALT_CODES = new Set([
  'authorization_error',
  'OVERLOAD_LIMIT',
  'ACCESS_DENIED',
  ...REFUSED_WEBHOOK_CODES,
  'insufficient_scope',
  'expired_token',
  'invalid_token',
  'PORTAL_DELETED',
  'user_access_error',
  'INVALID_REQUEST',
  'WRONG_AUTH_TYPE',
]);

/**
 * The portal failed while working: the request or command may or may not have been applied. ERROR_CORE is
 * "SQL query error!" (HTTP 500), e.g. a deadlock: worth another try.
 */
const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'ERROR_UNEXPECTED_ANSWER', 'ERROR_CORE']);

/**
 * What an error code calls for: `rate` (QUERY_LIMIT_EXCEEDED) and `operating` (OPERATION_TIME_LIMIT) were
 * refusals by a limit (nothing ran: wait and send again), `halt` stops the run, `transient` may have been
 * applied, `final` is the answer.
 */
export type CodeKind = 'rate' | 'operating' | 'halt' | 'transient' | 'final';

/** The refusals by a limit, and their codes. */
export type LimitKind = 'rate' | 'operating';
export const LIMIT_CODES: Record<LimitKind, string> = { rate: 'QUERY_LIMIT_EXCEEDED', operating: 'OPERATION_TIME_LIMIT' };

/** The kind of one error code (a whole answer's or a batch command's). Pure. */
export function codeKind(code: string): CodeKind {
  if (code === LIMIT_CODES.rate) return 'rate';
  if (code === LIMIT_CODES.operating) return 'operating';
  if (HALT_CODES.has(code)) return 'halt';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  return 'final';
}

/**
 * The kind of one command's error inside a batch answer. The auth codes halt as they do for a whole answer,
 * except crm's own permission refusal for one record ("Access denied." for a lead the webhook's user may not
 * see, or a missing one): that fails the row. Only the REST-level ACCESS_DENIED (plan) stops the run.
 */
export function commandKind(err: { error?: unknown; error_description?: unknown }): CodeKind {
  const code = String(err.error ?? '');
  if (code === 'ACCESS_DENIED' && !/commercial/i.test(String(err.error_description ?? ''))) return 'final';
  return codeKind(code);
}

export type Verdict =
  | { kind: 'ok' }
  | { kind: 'rate' }
  | { kind: 'operating' }
  | { kind: 'halt'; code: string; description: string }
  | { kind: 'transient'; code: string; description: string }
  | { kind: 'final'; code: string; description: string };

/** Classifies one HTTP answer: by the `error` code first, the status second. Pure. */
export function classify(status: number, body: unknown): Verdict {
  const err = errorOf(body);
  if (err) {
    const { error: code, error_description: description } = err;
    const kind = codeKind(code);
    if (kind === 'rate' || kind === 'operating') return { kind };
    if (code === '' && status >= 500) return { kind: 'transient', code: `HTTP_${status}`, description };
    // Every webhook-auth failure is 401 on the real server, whatever its code: no call can succeed.
    if (kind === 'final' && code !== '' && status === 401) return { kind: 'halt', code, description };
    return { kind, code, description };
  }
  if (status >= 200 && status < 300 && body !== undefined) return { kind: 'ok' };
  if (status === 429) return { kind: 'operating' };
  // 413: the web server refused a body too large before PHP saw it (there is no whole-request
  // ERROR_BATCH_LENGTH_EXCEEDED on the real server): a smaller batch goes through.
  if (status >= 500 || status === 408 || status === 413 || (status >= 200 && status < 300)) {
    return { kind: 'transient', code: `HTTP_${status}`, description: `unexpected answer (HTTP ${status})` };
  }
  return { kind: 'final', code: `HTTP_${status}`, description: `unexpected answer (HTTP ${status})` };
}

function errorOf(body: unknown): PortalErrorBody | undefined {
  if (!body || typeof body !== 'object' || !('error' in body)) return undefined;
  return errorBody(body);
}

/** The run-stopping message for a halt code, in words an operator can act on. */
export function haltMessage(code: string, description: string, host: string): string {
  const why: Record<string, string> = {
    OVERLOAD_LIMIT: 'REST is blocked on the portal for overload (a manual block: Bitrix24 support must lift it); the run stops',
    INVALID_CREDENTIALS: 'the webhook was refused (wrong code, or its user lacks rights): check the webhook',
    NO_AUTH_FOUND: 'the webhook code was not accepted: check the webhook',
    ACCESS_DENIED: 'REST access denied (REST needs a commercial plan, or the user lacks rights)',
    insufficient_scope: 'the webhook lacks the crm scope',
    expired_token: 'the access token expired',
    PORTAL_DELETED: 'the portal is deleted or closed',
    authorization_error: "the webhook's user could not be authorised (deactivated?): check the webhook's owner",
    INVALID_REQUEST: 'the portal refused the request (HTTPS required?)',
  };
  return `${host}: ${why[code] ?? 'the portal refused the run'} (${code}${description ? `: ${description}` : ''})`;
}

/**
 * Is a transient failure one a smaller batch may avoid: a body too large (413) or a request too slow (a web
 * server's 5xx page or 504, our own timeout)? Then the next attempt of that work goes in a smaller batch.
 */
export function isOversize(code: string): boolean {
  return code === 'TIMEOUT' || code === TOO_LARGE || /^HTTP_(413|5\d\d)$/.test(code);
}

/** Our code for an answer past the body cap (see bodyCap.ts): as transient as a timeout, and an oversize. */
const TOO_LARGE = 'RESPONSE_TOO_LARGE';

/**
 * A fetch that threw (no HTTP answer): a timeout, or a connection failure with the system code (ECONNRESET…)
 * that undici puts on the error or its `cause`; or an answer past the body cap, dropped unread. Either way the
 * write may have been applied.
 */
export function networkFailure(e: unknown, timeoutMs: number): { code: string; description: string } {
  if (e instanceof AnswerTooLargeError) {
    return { code: TOO_LARGE, description: `${e.message}: not read (the write may have been applied)` };
  }
  const err = e instanceof Error ? e : undefined;
  const cause = err?.cause instanceof Error ? err.cause : undefined;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || cause?.name === 'TimeoutError') {
    return { code: 'TIMEOUT', description: `no answer within ${Math.round(timeoutMs / 1000)} s (the write may have been applied)` };
  }
  const code = systemCode(cause) ?? systemCode(err) ?? 'NETWORK_ERROR';
  return { code: 'NETWORK_ERROR', description: `connection failed (${code}; the write may have been applied)` };
}

/** Node's system errors carry `code` (no class to test for): read it only off an Error. */
function systemCode(e: Error | undefined): unknown {
  return e && 'code' in e ? (e.code ?? undefined) : undefined;
}
