import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lambda/aws/log.ts';
import { isWebhookRefusal, rotatingPortal } from '../../lambda/aws/rotation.ts';
import { classify, HALT_CODES, haltMessage, REFUSED_WEBHOOK_CODES } from '../../lambda/calls/http/verdict.ts';
import type { PortalSession } from '../../lambda/calls/session.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { RunHaltedError, SendHaltedError } from '../../lambda/errors.ts';
import type { LeadSender, RowOutcome, SendStats, ValidRow } from '../../lambda/types.ts';

const OLD = 'https://acme.bitrix24.com/rest/1/0ldc0de/';
const NEW = 'https://acme.bitrix24.com/rest/1/n3wc0de/';
const options = parseRunOptions({});
const log = createLogger({ service: 't', level: 'SILENT' });

/** What the client throws for a 401 answer carrying `code`: the verdict's own halt, as the real session does. */
function refusal(code: string, outcomes?: RowOutcome[]): RunHaltedError {
  const verdict = classify(401, { error: code, error_description: 'refused' });
  expect(verdict.kind).toBe('halt');
  const message = haltMessage(code, 'refused', 'acme.bitrix24.com');
  return outcomes ? new SendHaltedError(code, message, outcomes) : new RunHaltedError(code, message);
}

function sender(send: LeadSender['send']): LeadSender {
  return { send, stats: () => ({}) as SendStats };
}

const row = (line: number): ValidRow => ({ line, id: line, fields: {} }) as unknown as ValidRow;

/** A portal on which the old webhook is refused with `code` (at open, or mid-send), the new one works. */
function portal(code: string, when: 'open' | 'send') {
  const opened: string[] = [];
  const open = async (url: string): Promise<PortalSession> => {
    opened.push(url);
    if (url === OLD && when === 'open') throw refusal(code);
    const send: LeadSender['send'] = async (rows) => {
      if (url === OLD)
        throw refusal(
          code,
          rows.map((r) => ({ line: r.line, status: 'skipped', errorCode: code }) as RowOutcome),
        );
      return rows.map((r) => ({ line: r.line, status: 'updated' }) as RowOutcome);
    };
    return { sender: sender(send), host: 'acme.bitrix24.com' } as unknown as PortalSession;
  };
  return { open, opened };
}

describe('the refused-webhook codes: one set in verdict.ts, read by the rotation', () => {
  it('each is a halt the verdict itself gives for a 401 answer', () => {
    expect(REFUSED_WEBHOOK_CODES.size).toBeGreaterThan(0);
    for (const code of REFUSED_WEBHOOK_CODES) {
      expect(HALT_CODES.has(code)).toBe(true);
      expect(classify(401, { error: code, error_description: '' })).toMatchObject({ kind: 'halt', code });
    }
  });

  it.each([...REFUSED_WEBHOOK_CODES].flatMap((code) => [[code, 'open'] as const, [code, 'send'] as const]))(
    '%s at %s: the secret is read again and the chunk goes on with the rotated webhook',
    async (code, when) => {
      const { open, opened } = portal(code, when);
      const reads: boolean[] = [];
      const rotating = rotatingPortal(
        open,
        async (o) => {
          reads.push(o?.fresh === true);
          return NEW;
        },
        log,
      );
      const session = await rotating(OLD, options);
      const out = await session.sender.send([row(2), row(3)], Date.now() + 60_000);
      expect(out.map((o) => o.status)).toEqual(['updated', 'updated']);
      expect(reads).toEqual([true]);
      expect(opened).toEqual([OLD, NEW]);
      expect(isWebhookRefusal(refusal(code))).toBe(true);
    },
  );

  it('every other halt code stands: no second read of the secret, the halt goes up', async () => {
    const others = [...HALT_CODES].filter((c) => !REFUSED_WEBHOOK_CODES.has(c));
    expect(others.length).toBeGreaterThan(0);
    for (const code of others) {
      const { open } = portal(code, 'open');
      const reads: unknown[] = [];
      const rotating = rotatingPortal(
        open,
        async (o) => {
          reads.push(o);
          return NEW;
        },
        log,
      );
      await expect(rotating(OLD, options)).rejects.toMatchObject({ code });
      expect(reads).toEqual([]);
      expect(isWebhookRefusal(refusal(code))).toBe(false);
    }
  });
});
