import { afterEach, describe, expect, it, vi } from 'vitest';
import { SendHaltedError } from '../../lambda/errors.ts';
import { blindPlanner } from '../../lambda/calls/sender.ts';
import { RunHaltedError } from '../../lambda/errors.ts';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import type { PlannedWrite, ValidRow, WritePlanner } from '../../lambda/types.ts';
import { FAR, row, setup } from '../support/bitrix.ts';

// The sandbox listens on loopback over http: the client allows that only in the explicit local mode.
vi.stubEnv('B24_LOCAL_MODE', '1');

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('sender against the sandbox portal', () => {
  it('imports 500 rows: every lead in the expected state, every row reported once, no duplicate writes', async () => {
    sb = await startSandbox({ rate: 20, burst: 10, costs: { 'crm.lead.update': 0.001 } });
    const ids = sb.seedLeads(Array.from({ length: 500 }, (_, i) => ({ TITLE: `old ${i}` })));
    const rows = ids.map((id, i) =>
      row(i + 2, id, i % 2 ? { TITLE: `new ${i}` } : { TITLE: `new ${i}`, PHONE: [{ VALUE: `+7900${i}`, VALUE_TYPE: 'WORK' }] }),
    );
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send(rows, FAR());
    expect(out).toHaveLength(500);
    expect(out.map((o) => o.line)).toEqual(rows.map((r) => r.line));
    expect(out.every((o) => o.status === 'updated' && o.attempts === 1 && o.changes?.includes('TITLE'))).toBe(true);
    for (const [i, id] of ids.entries()) expect(sb!.lead(id)?.TITLE).toBe(`new ${i}`);
    expect(sb.lead(ids[0])?.PHONE).toHaveLength(1);
    expect(sb.ledger()).toHaveLength(500);
    const st = sender.stats();
    expect(st.writes).toBe(500);
    expect(st.requests).toBeGreaterThanOrEqual(10);
    expect(sb.ledger()[0].params).toEqual({ REGISTER_SONET_EVENT: 'N' });
  });

  it('maps each failing command in a batch to its row (Not found, invalid ID)', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const [a, b] = sb.seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }]);
    const rows = [row(2, a, { TITLE: 'A' }), row(3, 987654, { TITLE: 'X' }), row(4, b, { TITLE: 'B' }), row(5, 0, { TITLE: 'Z' })];
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send(rows, FAR());
    expect(out.map((o) => [o.line, o.status, o.errorCode])).toEqual([
      [2, 'updated', ''],
      [3, 'failed', 'NOT_FOUND'],
      [4, 'updated', ''],
      [5, 'failed', 'INVALID_ID'],
    ]);
    expect(out[1].message).toMatch(/not found/i);
    expect(sb.stats().byMethod.batch).toBe(1);
  });

  it('round-trips & = # % + and non-ASCII exactly, and keeps empty strings as clears', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const [id] = sb.seedLeads([{ TITLE: 'x', NAME: 'to clear' }]);
    const title = 'Ärger & Söhne = 100% #1 + Co  "q" \'s\' [x] 李 🎉';
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send([row(2, id, { TITLE: title, NAME: '' })], FAR());
    expect(out[0].status).toBe('updated');
    expect(sb.lead(id)?.TITLE).toBe(title);
    expect(sb.lead(id)?.NAME).toBe('');
  });

  it('applies several rows for one lead in file order', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const ids = sb.seedLeads(Array.from({ length: 60 }, () => ({ TITLE: 't' })));
    const rows: ValidRow[] = [];
    let line = 2;
    for (const id of ids) rows.push(row(line++, id, { TITLE: 'first' }));
    rows.push(row(line++, ids[0], { TITLE: 'second' }), row(line++, ids[0], { TITLE: 'third' }));
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send(rows, FAR());
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(sb.lead(ids[0])?.TITLE).toBe('third');
    const titles = sb
      .ledger()
      .filter((e) => e.id === ids[0])
      .map((e) => e.fields.TITLE);
    expect(titles).toEqual(['first', 'second', 'third']);
  });

  it('blind planner: rows that clear multifields fail NEEDS_DIFF without a send', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const [id] = sb.seedLeads([{ TITLE: 't' }]);
    const { sender } = setup(sb.webhookUrl, {}, { planner: blindPlanner() });
    const out = await sender.send([row(2, id, { TITLE: 'n' }, ['PHONE:MOBILE'])], FAR());
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'NEEDS_DIFF', attempts: 0 });
    expect(sb.ledger()).toHaveLength(0);
  });

  it('dry run plans but never writes', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const [id] = sb.seedLeads([{ TITLE: 't' }]);
    const { sender } = setup(sb.webhookUrl, {}, { dryRun: true });
    const out = await sender.send([row(2, id, { TITLE: 'n', NAME: 'x' })], FAR());
    expect(out[0]).toMatchObject({ status: 'valid', attempts: 0, changes: 'TITLE;NAME' });
    expect(sb.ledger()).toHaveLength(0);
    expect(sb.stats().requests).toBe(0);
  });

  it('defers rows it cannot start before the deadline', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const ids = sb.seedLeads(Array.from({ length: 10 }, () => ({ TITLE: 't' })));
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: 'n' })),
      Date.now() - 1,
    );
    expect(out.every((o) => o.status === 'skipped' && o.errorCode === 'DEFERRED')).toBe(true);
    expect(sb.ledger()).toHaveLength(0);
  });

  it('splits a batch the web server finds too large (HTTP 413 HTML page; there is no whole-request ERROR_BATCH_LENGTH_EXCEEDED)', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const ids = sb.seedLeads(Array.from({ length: 40 }, () => ({ TITLE: 't' })));
    let refused = 0;
    const tooLong: typeof fetch = async (input, init) => {
      const body = String(init?.body ?? '');
      if (body.length > 3000) {
        refused++;
        return new Response('<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>', {
          status: 413,
          headers: { 'content-type': 'text/html' },
        });
      }
      return fetch(input, init);
    };
    const { sender } = setup(sb.webhookUrl, {}, { fetch: tooLong });
    const out = await sender.send(
      ids.map((id, i) => row(i + 2, id, { TITLE: `n${i}`, COMMENTS: 'x'.repeat(30) })),
      FAR(),
    );
    expect(refused).toBeGreaterThan(0);
    expect(out.every((o) => o.status === 'updated')).toBe(true);
    expect(sb.ledger()).toHaveLength(40);
  });
});

describe('diff-style planner on ambiguous writes', () => {
  it('re-plans appending rows after a reset and does not append twice', async () => {
    sb = await startSandbox({ rate: 20, burst: 10, faults: { resetAfterApply: 1 } });
    const [id] = sb.seedLeads([{ TITLE: 't' }]);
    const box = sb;
    let calls = 0;
    const reading: WritePlanner = {
      async plan(rows) {
        calls++;
        if (calls > 1) box.setFaults({});
        return rows.map((r): PlannedWrite => {
          const has = (box.lead(r.id)?.PHONE ?? []).some((p) => p.VALUE === '+79001');
          return { row: r, fields: has ? null : r.fields, changes: ['PHONE'] };
        });
      },
    };
    const { sender } = setup(sb.webhookUrl, {}, { planner: reading });
    const out = await sender.send([row(2, id, { PHONE: [{ VALUE: '+79001', VALUE_TYPE: 'WORK' }] })], FAR());
    expect(out[0]).toMatchObject({ status: 'updated', attempts: 1 });
    expect(calls).toBe(2);
    expect(sb.lead(id)?.PHONE).toHaveLength(1);
  });

  it('blind planner reports an appending row whose send was reset as AMBIGUOUS_WRITE', async () => {
    sb = await startSandbox({ rate: 20, burst: 10, faults: { resetAfterApply: 1 } });
    const [id] = sb.seedLeads([{ TITLE: 't' }]);
    const { sender } = setup(sb.webhookUrl);
    const out = await sender.send([row(2, id, { PHONE: [{ VALUE: '+79001', VALUE_TYPE: 'WORK' }] })], FAR());
    expect(out[0]).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_WRITE', attempts: 1 });
    expect(out[0].message).toMatch(/may have been applied; re-run/);
    expect(sb.ledger()).toHaveLength(1);
  });
});

describe('run-level stops', () => {
  it('OVERLOAD_LIMIT halts: finished rows keep their outcome, the rest are skipped with the code', async () => {
    sb = await startSandbox({ rate: 20, burst: 10, faults: { overloadAfter: 2 } });
    const ids = sb.seedLeads(Array.from({ length: 200 }, () => ({ TITLE: 't' })));
    const { sender } = setup(sb.webhookUrl, { concurrency: 1 });
    let err: unknown;
    try {
      await sender.send(
        ids.map((id, i) => row(i + 2, id, { TITLE: 'n' })),
        FAR(),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunHaltedError);
    expect(err).toBeInstanceOf(SendHaltedError);
    const h = err as SendHaltedError;
    expect(h.code).toBe('OVERLOAD_LIMIT');
    expect(h.message).toMatch(/manual block/);
    expect(h.outcomes).toHaveLength(200);
    expect(h.outcomes.filter((o) => o.status === 'updated')).toHaveLength(100);
    expect(h.outcomes.slice(100).every((o) => o.status === 'skipped' && o.errorCode === 'OVERLOAD_LIMIT')).toBe(true);
    expect(sb.stats().refusals.OVERLOAD_LIMIT).toBe(1);
  });

  it('bad credentials halt with INVALID_CREDENTIALS and never show the code', async () => {
    sb = await startSandbox({ rate: 20, burst: 10 });
    const [id] = sb.seedLeads([{ TITLE: 't' }]);
    const wrong = sb.webhookUrl.replace(/\/rest\/1\/[^/]+\//, '/rest/1/wr0ngc0desecret/');
    const { sender, logs } = setup(wrong);
    const err = await sender.send([row(2, id, { TITLE: 'n' })], FAR()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunHaltedError);
    expect((err as RunHaltedError).code).toBe('INVALID_CREDENTIALS');
    const all = JSON.stringify([String(err), (err as Error).message, (err as SendHaltedError).outcomes, logs, sender.stats()]);
    expect(all).not.toContain('wr0ngc0desecret');
    expect(all).toContain('127.0.0.1');
  });
});
