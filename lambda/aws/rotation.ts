import { isRefusedWebhook } from '../calls/http/verdict.ts';
import { openPortal, type PortalSession } from '../calls/session.ts';
import type { RunOptions } from '../config.ts';
import { SendHaltedError } from '../errors.ts';
import { addStats } from '../run/stats.ts';
import type { SendHooks } from '../calls/send/hooks.ts';
import type { LeadSender, RowOutcome, ValidRow } from '../types.ts';
import type { Logger } from './log.ts';

/** The portal refused the webhook itself (verdict.ts's codes): what a rotated (replaced) webhook gets. */
export const isWebhookRefusal = (err: unknown): boolean => isRefusedWebhook(String((err as { code?: unknown })?.code ?? ''));

export type OpenPortal = (webhookUrl: string, options: RunOptions) => Promise<PortalSession>;

/** The webhook from the secret; `fresh` reads Secrets Manager again, whatever the cache holds. */
export type WebhookSource = (opts?: { fresh?: boolean }) => Promise<string | undefined>;

/**
 * Opens the portal so a webhook rotated in Secrets Manager mid-run does not halt it: when the portal refuses the
 * webhook (INVALID_CREDENTIALS / NO_AUTH_FOUND, 401) the secret is read again once per chunk, and if it now holds
 * another URL the chunk goes on with it — at the chunk's start (preflight) or mid-chunk (the sender's halt: the
 * window's unfinished rows are sent again on the new session). The same URL again: the refusal stands (halt).
 */
export function rotatingPortal(open: OpenPortal = openPortal, webhook: WebhookSource, log: Logger): OpenPortal {
  let reread = false;
  /** The new URL, once per chunk; undefined when the secret still holds the refused one. */
  const rotated = async (refused: string, err: unknown): Promise<string | undefined> => {
    if (reread || !isWebhookRefusal(err)) return undefined;
    reread = true;
    const fresh = await webhook({ fresh: true });
    if (!fresh || fresh === refused) return undefined;
    log.warn('the portal refused the webhook and the secret holds a new one (rotated): the chunk goes on with it', {
      code: (err as { code: string }).code,
    });
    return fresh;
  };
  const openOnce = async (url: string, options: RunOptions): Promise<{ session: PortalSession; url: string }> => {
    try {
      return { session: await open(url, options), url };
    } catch (err) {
      const fresh = await rotated(url, err);
      if (!fresh) throw err;
      return { session: await open(fresh, options), url: fresh };
    }
  };
  return async (url, options) => {
    const first = await openOnce(url, options);
    return { ...first.session, sender: rotatingSender(first.session.sender, first.url, options, { open, rotated }) };
  };
}

/** The session's sender, which on a refused webhook re-sends the window's unfinished rows with the rotated one. */
function rotatingSender(
  sender: LeadSender,
  url: string,
  options: RunOptions,
  edges: { open: OpenPortal; rotated: (refused: string, err: unknown) => Promise<string | undefined> },
): LeadSender {
  let current = sender;
  let earlier: LeadSender | undefined;
  return {
    // The journal's hooks go to whichever session sends: without them a retried chunk would send rows again.
    async send(rows: ValidRow[], deadline: number, hooks?: SendHooks): Promise<RowOutcome[]> {
      try {
        return await current.send(rows, deadline, hooks);
      } catch (err) {
        const fresh = err instanceof SendHaltedError ? await edges.rotated(url, err) : undefined;
        if (!fresh || !(err instanceof SendHaltedError)) throw err;
        earlier = current;
        current = (await edges.open(fresh, options)).sender;
        // The halt's outcomes cover every row: the finished keep theirs, the rest are skipped with the halt's code.
        const finished = err.outcomes.filter((o) => !(o.status === 'skipped' && o.errorCode === err.code));
        const done = new Set(finished.map((o) => o.line));
        const rest = await current.send(
          rows.filter((r) => !done.has(r.line)),
          deadline,
          hooks,
        );
        return [...finished, ...rest];
      }
    },
    stats: () => (earlier ? addStats(earlier.stats(), current.stats()) : current.stats()),
    pacerState: () => current.pacerState?.(),
    resumePacer: (state: unknown) => current.resumePacer?.(state),
  };
}
