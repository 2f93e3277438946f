import { afterEach, describe, expect, it, vi } from 'vitest';
import { classify } from '../../lambda/calls/client.ts';
import { createDiffPlanner } from '../../lambda/calls/planning/diff.ts';
import { createSender } from '../../lambda/calls/sender.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { FAR, row, setup } from '../support/bitrix.ts';
import { commandsOf, scripted, timeBlock, type Scripted } from '../support/realPortal.ts';

// The sandbox listens on loopback over http: the client allows that only in the explicit local mode.
vi.stubEnv('B24_LOCAL_MODE', '1');

let portals: Scripted[] = [];
afterEach(async () => {
  await Promise.all(portals.map((p) => p.close()));
  portals = [];
});
async function portal(...a: Parameters<typeof scripted>): Promise<Scripted> {
  const p = await scripted(...a);
  portals.push(p);
  return p;
}

function diffSender(webhookUrl: string) {
  const { client } = setup(webhookUrl);
  const options = parseRunOptions({ limits: { rate: 50, burst: 20, operatingLimit: 100, operatingWindow: 10, concurrency: 4 } });
  return createSender({ api: client, planner: createDiffPlanner({ api: client, options }), options });
}

/** Answers a batch of crm.lead.list commands from `leads` (ID filter `@ID`). */
function listAnswer(cmds: ReturnType<typeof commandsOf>, leads: Record<string, unknown>[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, c] of cmds) {
    const ids = c.query
      .getAll('filter[@ID][0]')
      .concat([...c.query.entries()].filter(([k]) => k.startsWith('filter[@ID]')).map(([, v]) => v));
    result[key] = leads.filter((l) => ids.includes(String(l.ID)));
  }
  return result;
}

describe('diff reads against a real-shaped portal', () => {
  it('a read refused by OPERATION_TIME_LIMIT inside result_error waits and reads again; the row is not failed', async () => {
    let refused = 0;
    const p = await portal((call) => {
      const cmds = commandsOf(call);
      const methods = [...cmds.values()].map((c) => c.method);
      if (methods.includes('crm.lead.list')) {
        if (refused === 0) {
          refused++;
          const errs = Object.fromEntries(
            [...cmds.keys()].map((k) => [
              k,
              { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit' },
            ]),
          );
          const times = Object.fromEntries([...cmds.keys()].map((k) => [k, timeBlock(5, 1)]));
          return {
            body: {
              result: { result: [], result_error: errs, result_total: [], result_next: [], result_time: times },
              time: timeBlock(0.1),
            },
          };
        }
        return {
          body: {
            result: {
              result: listAnswer(cmds, [{ ID: '7', TITLE: 'old' }]),
              result_error: [],
              result_total: [],
              result_next: [],
              result_time: [],
            },
            time: timeBlock(0.1),
          },
        };
      }
      const result = Object.fromEntries([...cmds.keys()].map((k) => [k, true]));
      return { body: { result: { result, result_error: [], result_total: [], result_next: [], result_time: [] }, time: timeBlock(0.1) } };
    });
    const out = await diffSender(p.webhookUrl).send([row(2, 7, { TITLE: 'new' })], FAR());
    expect(out[0].status).toBe('updated');
    expect(refused).toBe(1);
  }, 20_000);
});

describe('two rows for one lead in a window', () => {
  it('the second row is planned again when the first one fails: it is not reported unchanged against a state that never came', async () => {
    const lead = { ID: '7', TITLE: 'old', NAME: 'Ann' };
    const written: Record<string, string>[] = [];
    const p = await portal((call) => {
      const cmds = commandsOf(call);
      if ([...cmds.values()].some((c) => c.method === 'crm.lead.list')) {
        return {
          body: {
            result: { result: listAnswer(cmds, [lead]), result_error: [], result_total: [], result_next: [], result_time: [] },
            time: timeBlock(),
          },
        };
      }
      const result: Record<string, unknown> = {};
      const errors: Record<string, unknown> = {};
      for (const [key, c] of cmds) {
        // line 2's write is refused by the portal (e.g. an automation rule or a field check): nothing applied
        if (key === 'r2') errors[key] = { error: '', error_description: 'Access denied' };
        else {
          written.push(Object.fromEntries(c.query));
          if (c.query.has('fields[TITLE]')) lead.TITLE = c.query.get('fields[TITLE]')!;
          result[key] = true;
        }
      }
      return { body: { result: { result, result_error: errors, result_total: [], result_next: [], result_time: [] }, time: timeBlock() } };
    });
    const out = await diffSender(p.webhookUrl).send([row(2, 7, { TITLE: 'new' }), row(3, 7, { TITLE: 'new' })], FAR());
    expect(out[0].status).toBe('failed');
    // line 3 asks for TITLE=new too; the lead still says "old", so line 3 must write it
    expect(out[1].status).toBe('updated');
    expect(lead.TITLE).toBe('new');
  });
});

describe('two rows for one lead in a window (first applies)', () => {
  it("the second row, planned against the first one's state, is unchanged once the first one applied: one write in all", async () => {
    const lead = { ID: '7', TITLE: 'old' };
    let writes = 0;
    const p = await portal((call) => {
      const cmds = commandsOf(call);
      if ([...cmds.values()].some((c) => c.method === 'crm.lead.list')) {
        return {
          body: {
            result: { result: listAnswer(cmds, [lead]), result_error: [], result_total: [], result_next: [], result_time: [] },
            time: timeBlock(),
          },
        };
      }
      writes += cmds.size;
      for (const c of cmds.values()) if (c.query.has('fields[TITLE]')) lead.TITLE = c.query.get('fields[TITLE]')!;
      return {
        body: {
          result: {
            result: Object.fromEntries([...cmds.keys()].map((k) => [k, true])),
            result_error: [],
            result_total: [],
            result_next: [],
            result_time: [],
          },
          time: timeBlock(),
        },
      };
    });
    const out = await diffSender(p.webhookUrl).send([row(2, 7, { TITLE: 'new' }), row(3, 7, { TITLE: 'new' })], FAR());
    expect(out.map((o) => o.status)).toEqual(['updated', 'unchanged']);
    expect(writes).toBe(1);
  });
});

describe('limits on the read path', () => {
  it('a read blocked by a 429 whose reset lies past the deadline is deferred at once, not waited out', async () => {
    const p = await portal(() => ({
      status: 429,
      body: {
        error: 'OPERATION_TIME_LIMIT',
        error_description: 'Method is blocked due to operation time limit',
        time: timeBlock(480, 500),
      },
    }));
    const started = Date.now();
    const out = await diffSender(p.webhookUrl).send([row(2, 7, { TITLE: 'new' })], Date.now() + 3_000);
    expect(out[0].status).toBe('skipped');
    expect(out[0].errorCode).toBe('DEFERRED');
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 20_000);
});

describe('portal value shapes', () => {
  it('numbers as numbers, multifields absent, leads in another order: an equal row is unchanged, a new phone is added once', async () => {
    const leads = [
      { ID: 9, OPPORTUNITY: 12500, COMPANY_ID: 0, TITLE: 'b', OPENED: 'Y' },
      { ID: 8, OPPORTUNITY: 10.5, TITLE: 'a', PHONE: [{ ID: 31, VALUE_TYPE: 'WORK', VALUE: '+7 (900) 111-22-33', TYPE_ID: 'PHONE' }] },
    ];
    const writes: Map<string, URLSearchParams>[] = [];
    const p = await portal((call) => {
      const cmds = commandsOf(call);
      if ([...cmds.values()].some((c) => c.method === 'crm.lead.list')) {
        return {
          body: {
            result: { result: listAnswer(cmds, leads), result_error: [], result_total: [], result_next: [], result_time: [] },
            time: timeBlock(),
          },
        };
      }
      writes.push(new Map([...cmds].map(([k, c]) => [k, c.query])));
      return {
        body: {
          result: {
            result: Object.fromEntries([...cmds.keys()].map((k) => [k, true])),
            result_error: [],
            result_total: [],
            result_next: [],
            result_time: [],
          },
          time: timeBlock(),
        },
      };
    });
    const out = await diffSender(p.webhookUrl).send(
      [
        row(2, 8, { OPPORTUNITY: 10.5, TITLE: 'a', PHONE: [{ VALUE: '79001112233', VALUE_TYPE: 'WORK' }] }),
        row(3, 9, {
          OPPORTUNITY: 12500,
          TITLE: 'b',
          COMPANY_ID: 0 as unknown as number,
          PHONE: [{ VALUE: '+7 900 555-00-00', VALUE_TYPE: 'MOBILE' }],
        }),
      ],
      FAR(),
    );
    expect(out.map((o) => o.status)).toEqual(['unchanged', 'updated']);
    expect(writes).toHaveLength(1);
    const q = writes[0].get('r3')!;
    expect([...q.keys()].filter((k) => k.startsWith('fields'))).toEqual(['fields[PHONE][0][VALUE]', 'fields[PHONE][0][VALUE_TYPE]']);
    expect(q.get('params[REGISTER_SONET_EVENT]')).toBe('N');
  });
});

describe('crm.lead.list paging as another portal may read it', () => {
  it('every lead is found by a portal that pages with slice(start, start + 50)', async () => {
    const leads = Array.from({ length: 10 }, (_, i) => ({ ID: String(i + 1), TITLE: `t${i + 1}` }));
    const p = await portal((call) => {
      const cmds = commandsOf(call);
      if ([...cmds.values()].some((c) => c.method === 'crm.lead.list')) {
        const result: Record<string, unknown> = {};
        for (const [key, c] of cmds) {
          const start = Number(c.query.get('start') ?? 0);
          const ids = [...c.query.entries()].filter(([k]) => k.startsWith('filter[@ID]')).map(([, v]) => v);
          result[key] = leads.filter((l) => ids.includes(l.ID)).slice(start, start + 50);
        }
        return { body: { result: { result, result_error: [], result_total: [], result_next: [], result_time: [] }, time: timeBlock() } };
      }
      return {
        body: {
          result: {
            result: Object.fromEntries([...cmds.keys()].map((k) => [k, true])),
            result_error: [],
            result_total: [],
            result_next: [],
            result_time: [],
          },
          time: timeBlock(),
        },
      };
    });
    const out = await diffSender(p.webhookUrl).send(
      leads.map((l, i) => row(i + 2, Number(l.ID), { TITLE: l.TITLE })),
      FAR(),
    );
    expect(out.map((o) => o.status)).toEqual(leads.map(() => 'unchanged'));
  });
});

describe('a read batch the web server finds too large', () => {
  it('HTTP 413 on the 50-command read is split, not a crash of the window', async () => {
    const leads = Array.from({ length: 2500 }, (_, i) => ({ ID: String(1000 + i), TITLE: `t${i}` }));
    const byId = new Map(leads.map((l) => [l.ID, l]));
    let refused = 0;
    const p = await portal((call) => {
      // The web server in front of this portal refuses bodies over 40 kB (413, an HTML page: SRV has no
      // whole-request ERROR_BATCH_LENGTH_EXCEEDED)
      if (JSON.stringify(call.params).length > 40_000) {
        refused++;
        return { status: 413, text: '<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>' };
      }
      const cmds = commandsOf(call);
      const result: Record<string, unknown> = {};
      for (const [key, c] of cmds) {
        const ids = [...c.query.entries()].filter(([k]) => k.startsWith('filter[@ID]')).map(([, v]) => v);
        result[key] = ids.map((id) => byId.get(id)).filter(Boolean);
      }
      return { body: { result: { result, result_error: [], result_total: [], result_next: [], result_time: [] }, time: timeBlock() } };
    });
    const out = await diffSender(p.webhookUrl).send(
      leads.map((l, i) => row(i + 2, Number(l.ID), { TITLE: l.TITLE })),
      FAR(),
    );
    expect(refused).toBeGreaterThan(0);
    expect(out.every((o) => o.status === 'unchanged')).toBe(true);
  }, 30_000);
});

describe('classify: the error code first, the status second', () => {
  const cases: [number, unknown, string, string?][] = [
    [503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' }, 'rate'],
    [429, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' }, 'rate'], // 2024 docs
    [429, { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit' }, 'operating'],
    [429, undefined, 'operating'],
    [503, { error: 'OVERLOAD_LIMIT', error_description: 'REST API is blocked due to overload' }, 'halt', 'OVERLOAD_LIMIT'],
    [401, { error: 'OVERLOAD_LIMIT', error_description: 'REST API is blocked due to overload' }, 'halt', 'OVERLOAD_LIMIT'], // newest docs
    [401, { error: 'INVALID_CREDENTIALS', error_description: 'Invalid request credentials' }, 'halt', 'INVALID_CREDENTIALS'],
    [401, { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' }, 'halt', 'NO_AUTH_FOUND'],
    [401, { error: 'expired_token', error_description: 'The access token provided has expired.' }, 'halt', 'expired_token'],
    [400, { error: '', error_description: 'Not found' }, 'final', ''],
    [400, { error: '', error_description: 'ID is not defined or invalid.' }, 'final', ''],
    [500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' }, 'transient', 'INTERNAL_SERVER_ERROR'],
    [502, undefined, 'transient', 'HTTP_502'], // nginx HTML page: no JSON body
    [200, { result: { result: [], result_error: [], result_time: [] } }, 'ok'],
  ];
  for (const [status, body, kind, code] of cases) {
    it(`${status} ${body && typeof body === 'object' && 'error' in body ? String((body as { error: string }).error) || '""' : 'no JSON'} → ${kind}`, () => {
      const v = classify(status, body);
      expect(v.kind).toBe(kind);
      if (code !== undefined) expect('code' in v ? v.code : undefined).toBe(code);
    });
  }
});

describe('what the portal receives', () => {
  it('values with & = # % + [ ] newlines and non-ASCII arrive intact; REGISTER_SONET_EVENT under params; Not found per row', async () => {
    const text = 'a[b]=c&d#e%f+g h\nи ü 😀';
    const got: Record<string, string>[] = [];
    const p = await portal((call) => {
      const result: Record<string, unknown> = {};
      const errors: Record<string, unknown> = {};
      for (const [key, c] of commandsOf(call)) {
        got.push(Object.fromEntries(c.query));
        if (c.query.get('id') === '404') errors[key] = { error: '', error_description: 'Not found' };
        else result[key] = true;
      }
      // every command failed → PHP prints result as []; no time at all
      return {
        body: {
          result: {
            result: Object.keys(result).length ? result : [],
            result_error: errors,
            result_total: [],
            result_next: [],
            result_time: [],
          },
        },
      };
    });
    const { sender } = setup(p.webhookUrl);
    const out = await sender.send([row(2, 5, { TITLE: text, COMMENTS: '' }), row(3, 404, { TITLE: 'x' })], FAR());
    expect(out.map((o) => [o.status, o.errorCode])).toEqual([
      ['updated', ''],
      ['failed', 'NOT_FOUND'],
    ]);
    expect(got[0]['fields[TITLE]']).toBe(text);
    expect(got[0]['fields[COMMENTS]']).toBe('');
    expect(got[0]['params[REGISTER_SONET_EVENT]']).toBe('N');
    expect(Object.keys(got[0]).some((k) => k.startsWith('options'))).toBe(false);
    const only404 = await setup(p.webhookUrl).sender.send([row(4, 404, { TITLE: 'x' })], FAR());
    expect(only404[0]).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND', message: 'Not found' });
  });
});
