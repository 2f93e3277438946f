import { describe, expect, it } from 'vitest';
import { classify, codeKind } from '../../lambda/calls/http/verdict.ts';
import { RunHaltedError, SendHaltedError } from '../../lambda/errors.ts';
import type { PlannedWrite, WritePlanner } from '../../lambda/types.ts';
import { batchAnswer, batchCommands, FAR, type FakeAnswer, fakeSetup, row } from '../support/bitrix.ts';

/** Every webhook-auth failure as the server sets it (SRV rest.php, apauth/auth.php): all 401, PORTAL_DELETED 403. */
const AUTH_FAILURES: [number, string, string][] = [
  [401, 'authorization_error', 'Unable to authorize user'],
  [401, 'INVALID_CREDENTIALS', 'Invalid request credentials'],
  [401, 'insufficient_scope', 'The request requires higher privileges than provided by the webhook token'],
  [401, 'INVALID_REQUEST', 'Https required.'],
  [401, 'ACCESS_DENIED', 'REST is available only on commercial plans.'],
  [401, 'OVERLOAD_LIMIT', 'REST API is blocked due to overload.'],
  [401, 'NO_AUTH_FOUND', 'Wrong authorization data'],
  [403, 'PORTAL_DELETED', 'Portal was deleted'],
];

const rows = (n: number, fields: (i: number) => Record<string, unknown> = (i) => ({ TITLE: `t${i}` })) =>
  Array.from({ length: n }, (_, i) => row(i + 2, 100 + i, fields(i) as never));

const err = (status: number, error: string, error_description: string): FakeAnswer => ({ status, body: { error, error_description } });

describe('the error table: code first, status second', () => {
  it('authorization_error and ERROR_CORE have their real class', () => {
    expect(codeKind('authorization_error')).toBe('halt');
    expect(codeKind('ERROR_CORE')).toBe('transient');
    expect(classify(500, { error: 'ERROR_CORE', error_description: 'SQL query error!' }).kind).toBe('transient');
    for (const [status, code, text] of AUTH_FAILURES) expect(classify(status, { error: code, error_description: text }).kind).toBe('halt');
  });
});

describe('webhook-auth failures halt the run (they do not fail row after row)', () => {
  for (const [status, code, text] of AUTH_FAILURES) {
    it(`${status} ${code}: one request, every row skipped with the code`, async () => {
      const { sender, calls } = fakeSetup(() => err(status, code, text));
      const e = await sender.send(rows(60), FAR() + 1e12).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SendHaltedError);
      const h = e as SendHaltedError;
      expect(h.code).toBe(code);
      expect(h.outcomes.every((o) => o.status === 'skipped' && o.errorCode === code)).toBe(true);
      expect(calls).toHaveLength(1);
    });
  }

  it('a halt code for one command inside a batch halts too; the finished rows keep their outcome', async () => {
    const { sender, calls } = fakeSetup((call) => ({
      body: batchAnswer(batchCommands(call).keys(), {
        errors: { r3: { error: 'authorization_error', error_description: 'Unable to authorize user' } },
      }),
    }));
    const e = (await sender.send(rows(60), FAR() + 1e12).catch((x: unknown) => x)) as SendHaltedError;
    expect(e).toBeInstanceOf(SendHaltedError);
    expect(e.code).toBe('authorization_error');
    expect(e.outcomes[0].status).toBe('updated');
    expect(e.outcomes[1]).toMatchObject({ status: 'skipped', errorCode: 'authorization_error' });
    expect(e.outcomes.slice(50).every((o) => o.status === 'skipped')).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('a halt code for one read command halts the read (client.batch rejects RunHaltedError)', async () => {
    const { client } = fakeSetup((call) => ({
      body: batchAnswer(batchCommands(call).keys(), { errors: { l0: { error: 'insufficient_scope', error_description: '' } } }),
    }));
    await expect(client.batch({ l0: 'crm.lead.list?filter%5B%40ID%5D%5B0%5D=1' })).rejects.toBeInstanceOf(RunHaltedError);
  });
});

describe('crm answers for one command: row outcomes, never a halt', () => {
  it('"Lead is not found" is NOT_FOUND, "Access denied." fails the row ACCESS_DENIED, "Not found" stays NOT_FOUND', async () => {
    const { sender } = fakeSetup((call) => ({
      body: batchAnswer(batchCommands(call).keys(), {
        errors: {
          r2: { error: '', error_description: 'Lead is not found' },
          r3: { error: '', error_description: 'Access denied.' },
          r4: { error: '', error_description: 'Not found' },
          r5: { error: '', error_description: 'ID is not defined or invalid.' },
        },
      }),
    }));
    const out = await sender.send(rows(5), FAR() + 1e12);
    expect(out.map((o) => [o.status, o.errorCode])).toEqual([
      ['failed', 'NOT_FOUND'],
      ['failed', 'ACCESS_DENIED'],
      ['failed', 'NOT_FOUND'],
      ['failed', 'INVALID_ID'],
      ['updated', ''],
    ]);
  });
});

describe('ERROR_CORE (500 "SQL query error!", e.g. a deadlock) is transient', () => {
  it('a whole batch of sets is retried with the backoff and applies', async () => {
    const { sender, calls, clock } = fakeSetup((call, n) =>
      n === 1 ? err(500, 'ERROR_CORE', 'SQL query error!') : { body: batchAnswer(batchCommands(call).keys()) },
    );
    const out = await sender.send(rows(3), FAR() + 1e12);
    expect(out.map((o) => [o.status, o.attempts])).toEqual([
      ['updated', 2],
      ['updated', 2],
      ['updated', 2],
    ]);
    expect(calls).toHaveLength(2);
    expect(clock.slept).toContain(500); // backoffDelay(1, 0.5)
  });

  it('a batch that appends is not re-sent blindly: the blind planner reports AMBIGUOUS_WRITE', async () => {
    const { sender, calls } = fakeSetup(() => err(500, 'ERROR_CORE', 'SQL query error!'));
    const out = await sender.send(
      rows(1, () => ({ PHONE: [{ VALUE: '+7900', VALUE_TYPE: 'WORK' }] })),
      FAR() + 1e12,
    );
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_WRITE' });
    expect(calls).toHaveLength(1);
  });

  it('per command: a set is re-sent, an append is re-planned (re-read) before it goes again', async () => {
    let plans = 0;
    const reading: WritePlanner = {
      async plan(rs) {
        plans++;
        return rs.map((r): PlannedWrite => ({ row: r, fields: r.fields, changes: Object.keys(r.fields) }));
      },
    };
    const { sender, calls } = fakeSetup(
      (call, n) => ({
        body: batchAnswer(batchCommands(call).keys(), {
          errors:
            n === 1
              ? {
                  r2: { error: 'ERROR_CORE', error_description: 'SQL query error!' },
                  r3: { error: 'ERROR_CORE', error_description: 'SQL query error!' },
                }
              : {},
        }),
      }),
      { planner: () => reading },
    );
    const out = await sender.send(
      [row(2, 1, { TITLE: 'a' }), row(3, 2, { PHONE: [{ VALUE: '+7900', VALUE_TYPE: 'WORK' }] })],
      FAR() + 1e12,
    );
    expect(out.map((o) => o.status)).toEqual(['updated', 'updated']);
    expect(plans).toBe(2); // the first plan, and the re-read of the appending row
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });

  it('a read command failing ERROR_CORE is read again (bounded), not reported', async () => {
    const { client, calls } = fakeSetup((call, n) => ({
      body: batchAnswer(batchCommands(call).keys(), {
        errors: n === 1 ? { l0: { error: 'ERROR_CORE', error_description: 'SQL query error!' } } : {},
      }),
    }));
    const r = await client.batch({ l0: 'crm.lead.list', l1: 'crm.lead.list' });
    expect(Object.keys(r.errors)).toEqual([]);
    expect(Object.keys(r.result).sort()).toEqual(['l0', 'l1']);
    expect(calls).toHaveLength(2);
    expect(Object.keys(calls[1].params.cmd as object)).toEqual(['l0']);
  });

  it('a read command that keeps failing ERROR_CORE is reported after the bounded retries', async () => {
    const { client, calls } = fakeSetup((call) => ({
      body: batchAnswer(batchCommands(call).keys(), { errors: { l0: { error: 'ERROR_CORE', error_description: 'SQL query error!' } } }),
    }));
    const r = await client.batch({ l0: 'crm.lead.list' });
    expect(r.errors.l0.error).toBe('ERROR_CORE');
    expect(calls).toHaveLength(5);
  });
});
