import { afterEach, describe, expect, it, vi } from 'vitest';
import { openPortal } from '../../lambda/calls/session.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import { compileRows } from '../../lambda/payloads/compile.ts';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import type { ValidRow } from '../../lambda/types.ts';

// The sandbox listens on loopback over http: the client allows that only in the explicit local mode.
vi.stubEnv('B24_LOCAL_MODE', '1');

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

/**
 * A write that times out on our side may still reach the portal after we gave up. If the sender re-read the
 * lead at once, it would see no new phone yet and append it again when the late write lands: duplicates.
 */
describe('a timed-out write that lands late', () => {
  it('is not appended twice: the sender lets it settle before reading the lead again', async () => {
    sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
    const ids = sb.seedLeads([{ TITLE: 'a' }, { TITLE: 'b' }]);
    const options = parseRunOptions({ limits: { rate: 1000, burst: 1000, operatingLimit: 10_000, operatingWindow: 600, concurrency: 4 } });

    let held = false;
    // The first write batch reaches the portal only 900 ms after it was sent, whatever the client's 500 ms timeout.
    const lateFetch: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!held && url.includes('/batch') && String(init?.body ?? '').includes('crm.lead.update')) {
        held = true;
        const { signal: _ignored, ...rest } = init ?? {};
        setTimeout(() => void fetch(input, rest).catch(() => {}), 900);
        return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
      }
      return fetch(input, init);
    };

    const session = await openPortal(sb.webhookUrl, options, { timeoutMs: 500, fetch: lateFetch, backoffMs: 10 });
    const header = ['ID', 'PHONE_MOBILE', 'EMAIL'];
    const check = compileRows(
      resolveHeader(header, { mapping: {}, catalogue: session.catalogue }),
      options,
      session.catalogue,
      header.length,
    );
    const rows = ids.map((id, i) => {
      const r = check({ line: i + 2, cells: [String(id), `+7 900 123-45-6${i}`, `x${i}@example.com`], raw: '', start: 0, end: 0 });
      if (!r.ok) throw new Error(r.outcome.message);
      return r.row;
    }) as ValidRow[];

    const outcomes = await session.sender.send(rows, Date.now() + 30_000);
    expect(held).toBe(true);
    expect(outcomes.map((o) => o.status)).toEqual(['updated', 'updated']);
    for (const id of ids) {
      const lead = sb.lead(id)!;
      expect(lead.PHONE).toHaveLength(1);
      expect(lead.EMAIL).toHaveLength(1);
    }
  });
});
