import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../lambda/calls/client.ts';
import { createSender } from '../../lambda/calls/sender.ts';
import { parseWebhook } from '../../lambda/calls/webhook.ts';
import { parseAllowedHosts, parseRunOptions } from '../../lambda/config.ts';
import { ConfigurationError, RunHaltedError, SendHaltedError } from '../../lambda/errors.ts';
import { batchAnswer, batchCommands, FAR, fakeFetch, row } from '../support/bitrix.ts';

/**
 * The webhook code goes only to the host the operator configured. A portal's redirect is followed only to a
 * Bitrix24 cloud host (a renamed portal) or a host the operator allows, never to a scheme downgrade, an IP
 * address or a private, link-local or loopback one outside the explicit local mode, and never with our token
 * path copied onto a Location that has none. Everything else halts the run: PORTAL_MOVED, naming the host.
 */

const CODE = 'r3d1rC0deQ7x';
const OLD = `https://old.bitrix24.ru/rest/1/${CODE}/`;
const options = parseRunOptions({ limits: { rate: 100, burst: 100, concurrency: 1 } });

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A fetch on which `old.bitrix24.ru` answers `status` with `location`; every other host succeeds. Records each URL. */
function redirecting(location: string, status = 302): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const { fetch: ok } = fakeFetch((call) =>
    call.method === 'batch' ? { body: batchAnswer(batchCommands(call).keys()) } : { body: { result: { ID: 1 } } },
  );
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    urls.push(url);
    if (new URL(url).host === 'old.bitrix24.ru') return new Response('', { status, headers: { location } });
    return ok(input, init);
  };
  return { fetch: impl as typeof fetch, urls };
}

function client(fetchImpl: typeof globalThis.fetch, extra: { allowedHosts?: string[]; localMode?: boolean; webhookUrl?: string } = {}) {
  const logs: string[] = [];
  const c = createClient({
    webhookUrl: OLD,
    limits: options.limits,
    fetch: fetchImpl,
    maxRetries: 0,
    log: (l) => logs.push(l),
    localMode: false,
    ...extra,
  });
  return { client: c, logs };
}

async function haltOf(p: Promise<unknown>): Promise<RunHaltedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RunHaltedError);
  return e as RunHaltedError;
}

describe('a renamed cloud portal is followed', () => {
  for (const zone of ['ru', 'com', 'de', 'eu', 'com.br', 'com.tr', 'uk', 'mx']) {
    it(`old.bitrix24.ru → new.bitrix24.${zone}: re-POSTed there and remembered for later calls`, async () => {
      const { fetch, urls } = redirecting(`https://new.bitrix24.${zone}/rest/1/${CODE}/profile.json`);
      const { client: c, logs } = client(fetch);
      await c.call('profile');
      await c.call('profile');
      expect(urls.map((u) => new URL(u).host)).toEqual(['old.bitrix24.ru', `new.bitrix24.${zone}`, `new.bitrix24.${zone}`]);
      expect(logs.join('\n')).toContain(`new.bitrix24.${zone}`);
      expect(logs.join('\n')).not.toContain(CODE);
    });
  }

  it('a host the operator allows (exact or *.suffix, option or B24_ALLOWED_HOSTS) is followed too', async () => {
    for (const allowedHosts of [['crm.acme.example'], ['*.acme.example']]) {
      const { fetch, urls } = redirecting(`https://crm.acme.example/rest/1/${CODE}/`);
      await client(fetch, { allowedHosts }).client.call('profile');
      expect(urls.map((u) => new URL(u).host)).toEqual(['old.bitrix24.ru', 'crm.acme.example']);
    }
    vi.stubEnv('B24_ALLOWED_HOSTS', 'other.example, crm.acme.example');
    const { fetch, urls } = redirecting(`https://crm.acme.example/rest/1/${CODE}/`);
    await client(fetch).client.call('profile');
    expect(urls).toHaveLength(2);
  });
});

describe('any other redirect halts the run with PORTAL_MOVED and sends nothing there', () => {
  const refused: [string, string][] = [
    ['a host outside the allow-list', `https://evil.example.com/rest/1/${CODE}/profile.json`],
    ['a look-alike of a cloud zone', `https://new.bitrix24.ru.evil.com/rest/1/${CODE}/`],
    ['a zone apex', `https://bitrix24.ru/rest/1/${CODE}/`],
    ['a name that merely ends in bitrix24', `https://evilbitrix24.ru/rest/1/${CODE}/`],
    ['a scheme downgrade', `http://new.bitrix24.ru/rest/1/${CODE}/`],
    ['the cloud metadata address', `https://169.254.169.254/rest/1/${CODE}/`],
    ['the Lambda Runtime API on loopback', `http://127.0.0.1:9001/rest/1/${CODE}/`],
    ['loopback over https', `https://127.0.0.1/rest/1/${CODE}/`],
    ['localhost', `https://localhost/rest/1/${CODE}/`],
    ['a private address', `https://10.0.0.7/rest/1/${CODE}/`],
    ['IPv6 loopback', `https://[::1]/rest/1/${CODE}/`],
    ['IPv6 link-local', `https://[fe80::1]/rest/1/${CODE}/`],
    ['IPv4-mapped metadata', `https://[::ffff:169.254.169.254]/rest/1/${CODE}/`],
    ['a public IP address', `https://203.0.113.9/rest/1/${CODE}/`],
    ['credentials in the Location', `https://u:p@new.bitrix24.ru/rest/1/${CODE}/`],
    ['not http(s)', `ftp://new.bitrix24.ru/rest/1/${CODE}/`],
  ];
  for (const [name, location] of refused) {
    it(`${name}: ${location.replace(CODE, '<code>')}`, async () => {
      const { fetch, urls } = redirecting(location);
      const e = await haltOf(client(fetch).client.call('profile'));
      expect(e.code).toBe('PORTAL_MOVED');
      expect(e.message).not.toContain(CODE);
      expect(e.message).not.toContain('/rest/');
      expect(e.message).toContain('old.bitrix24.ru');
      expect(urls).toHaveLength(1);
    });
  }

  it('names the new host, never its path', async () => {
    const { fetch } = redirecting(`https://evil.example.com:8443/rest/1/${CODE}/x`);
    const e = await haltOf(client(fetch).client.call('profile'));
    expect(e.message).toContain('evil.example.com:8443');
    expect(e.message).toMatch(/webhook URL/);
  });

  it('a Location without /rest/<user>/<code>/ never gets our token path copied onto it, even on a cloud host', async () => {
    for (const location of ['https://new.bitrix24.ru/', 'https://new.bitrix24.ru/auth/?backurl=/rest/', '/login/']) {
      const { fetch, urls } = redirecting(location);
      const e = await haltOf(client(fetch).client.call('profile'));
      expect(e.code).toBe('PORTAL_MOVED');
      expect(urls).toHaveLength(1);
    }
  });

  it('allowedHosts does not open private or loopback addresses', async () => {
    const { fetch, urls } = redirecting(`https://10.1.2.3/rest/1/${CODE}/`);
    const e = await haltOf(client(fetch, { allowedHosts: ['*.example'] }).client.call('profile'));
    expect(e.code).toBe('PORTAL_MOVED');
    expect(urls).toHaveLength(1);
  });

  it('the sender halts the run: every row skipped with PORTAL_MOVED', async () => {
    const { fetch, urls } = redirecting(`https://evil.example.com/rest/1/${CODE}/`);
    const sender = createSender({ api: client(fetch).client, options });
    const e = await sender.send([row(2, 100, { TITLE: 'a' }), row(3, 101, { TITLE: 'b' })], FAR()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SendHaltedError);
    expect((e as SendHaltedError).code).toBe('PORTAL_MOVED');
    expect((e as SendHaltedError).outcomes.every((o) => o.status === 'skipped' && o.errorCode === 'PORTAL_MOVED')).toBe(true);
    expect(urls.every((u) => new URL(u).host === 'old.bitrix24.ru')).toBe(true);
  });
});

describe('the webhook host itself', () => {
  const internal = [
    `https://169.254.169.254/rest/1/${CODE}/`,
    `http://169.254.169.254/rest/1/${CODE}/`,
    `https://[fe80::a9fe:a9fe]/rest/1/${CODE}/`,
    `https://10.0.0.1/rest/1/${CODE}/`,
    `https://172.16.5.4/rest/1/${CODE}/`,
    `https://192.168.1.10/rest/1/${CODE}/`,
    `https://[fd00::1]/rest/1/${CODE}/`,
    `https://0.0.0.0/rest/1/${CODE}/`,
    `https://[::ffff:10.0.0.1]/rest/1/${CODE}/`,
  ];
  const loopback = [
    `http://127.0.0.1:9001/rest/1/${CODE}/`,
    `https://127.0.0.1/rest/1/${CODE}/`,
    `http://localhost:3000/rest/1/${CODE}/`,
    `http://[::1]:9000/rest/1/${CODE}/`,
  ];

  function refusal(url: string, localMode: boolean): RunHaltedError {
    let caught: unknown;
    try {
      parseWebhook(url, { localMode, allowedHosts: [] });
    } catch (e) {
      caught = e;
    }
    expect(caught, url).toBeInstanceOf(RunHaltedError);
    expect((caught as RunHaltedError).code).toBe('INVALID_WEBHOOK');
    expect((caught as Error).message).not.toContain(CODE);
    return caught as RunHaltedError;
  }

  it('link-local and private addresses are refused, local mode or not', () => {
    for (const url of internal) {
      expect(refusal(url, false).message).toMatch(/link-local|private|unspecified/);
      refusal(url, true);
    }
  });

  it('loopback is refused outside local mode (the Lambda Runtime API listens on 127.0.0.1:9001)', () => {
    for (const url of loopback) expect(refusal(url, false).message).toMatch(/loopback/);
  });

  it('an IP address is refused outside local mode: a portal is named by its host name', () => {
    expect(refusal(`https://203.0.113.9/rest/1/${CODE}/`, false).message).toMatch(/IP address/);
    expect(refusal(`https://[2001:db8::1]/rest/1/${CODE}/`, false).message).toMatch(/IP address/);
  });

  it('local mode allows http to loopback only', () => {
    for (const url of loopback) expect(parseWebhook(url, { localMode: true, allowedHosts: [] }).code).toBe(CODE);
    refusal(`http://acme.bitrix24.ru/rest/1/${CODE}/`, true);
  });

  it('the client applies it: explicit option, or B24_LOCAL_MODE=1, never inside a Lambda', () => {
    const url = `http://127.0.0.1:9001/rest/1/${CODE}/`;
    const make = (localMode?: boolean) => () =>
      createClient({ webhookUrl: url, limits: options.limits, ...(localMode === undefined ? {} : { localMode }) });
    vi.stubEnv('B24_LOCAL_MODE', '');
    expect(make()).toThrow(RunHaltedError);
    expect(make(true)).not.toThrow();
    vi.stubEnv('B24_LOCAL_MODE', '1');
    expect(make()).not.toThrow();
    expect(make(false)).toThrow(/loopback/);
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'b24-lead-import-chunk');
    expect(make()).toThrow(/loopback/);
    expect(make(true)).toThrow(/loopback/);
  });

  it('a Bitrix24 cloud portal and a self-hosted portal by name stay accepted', () => {
    expect(parseWebhook(`https://acme.bitrix24.de/rest/7/${CODE}/`, { localMode: false, allowedHosts: [] }).host).toBe('acme.bitrix24.de');
    expect(parseWebhook(`https://crm.example.org/rest/7/${CODE}/`, { localMode: false, allowedHosts: [] }).host).toBe('crm.example.org');
  });
});

describe('allowedHosts configuration', () => {
  it('parses a comma- or space-separated list of host names, *.suffix allowed', () => {
    expect(parseAllowedHosts(' crm.acme.example, *.Corp.Example  other.example ')).toEqual([
      'crm.acme.example',
      '*.corp.example',
      'other.example',
    ]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
  });

  it('refuses entries that are not host names (URLs, paths, ports, bare wildcards)', () => {
    for (const bad of ['https://x.example', 'x.example/rest', 'x.example:443', '*', '*.com.', 'a..b']) {
      expect(() => parseAllowedHosts(bad), bad).toThrow(ConfigurationError);
    }
  });
});

describe('on loopback, in local mode (real HTTP on port 0)', () => {
  let servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    servers = [];
  });

  async function serve(answer: (path: string) => { status: number; headers?: Record<string, string>; body?: string }): Promise<string> {
    const s = createServer((req, res) => {
      req.resume();
      const a = answer(req.url ?? '/');
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('a sandbox moved to another loopback port is followed; a redirect to the metadata address is not', async () => {
    let hits = 0;
    const target = await serve(() => {
      hits += 1;
      return { status: 200, body: JSON.stringify({ result: { ok: true } }) };
    });
    const moved = await serve((path) => ({ status: 302, headers: { location: `${target}${path}` } }));
    const c = createClient({ webhookUrl: `${moved}/rest/1/${CODE}/`, limits: options.limits, localMode: true });
    expect(await c.call('profile')).toEqual({ ok: true });
    expect(hits).toBe(1);

    const metadata = await serve(() => ({ status: 307, headers: { location: `http://169.254.169.254/rest/1/${CODE}/` } }));
    const m = createClient({ webhookUrl: `${metadata}/rest/1/${CODE}/`, limits: options.limits, localMode: true, maxRetries: 0 });
    const e = await haltOf(m.call('profile'));
    expect(e.code).toBe('PORTAL_MOVED');
    expect(e.message).toContain('169.254.169.254');
  });

  it('outside local mode the loopback sandbox is not a portal', async () => {
    const url = await serve(() => ({ status: 200, body: '{"result":true}' }));
    expect(() => createClient({ webhookUrl: `${url}/rest/1/${CODE}/`, limits: options.limits, localMode: false })).toThrow(/loopback/);
  });
});
