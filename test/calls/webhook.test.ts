import { describe, expect, it } from 'vitest';
import { RunHaltedError } from '../../lambda/errors.ts';
import { parseWebhook, rebase, redact } from '../../lambda/calls/webhook.ts';

const SECRET = 'k3y5ecr3tz9x';

describe('parseWebhook', () => {
  it('splits a valid webhook URL', () => {
    expect(parseWebhook(`https://acme.bitrix24.ru/rest/7/${SECRET}/`)).toEqual({
      base: `https://acme.bitrix24.ru/rest/7/${SECRET}/`,
      host: 'acme.bitrix24.ru',
      userId: 7,
      code: SECRET,
    });
    expect(parseWebhook(`https://acme.bitrix24.ru/rest/7/${SECRET}/profile.json`).base).toBe(`https://acme.bitrix24.ru/rest/7/${SECRET}/`);
    expect(parseWebhook(`https://acme.bitrix24.ru/rest/7/${SECRET}`).base).toBe(`https://acme.bitrix24.ru/rest/7/${SECRET}/`);
  });

  it('refuses plain http except on loopback, and loopback itself outside local mode', () => {
    expect(() => parseWebhook(`http://acme.bitrix24.ru/rest/1/${SECRET}/`)).toThrow(/https/);
    for (const host of ['127.0.0.1:8080', '127.4.5.6', 'localhost:3000', '[::1]:9000']) {
      expect(parseWebhook(`http://${host}/rest/1/${SECRET}/`, { localMode: true, allowedHosts: [] }).host).toBe(host);
      expect(() => parseWebhook(`http://${host}/rest/1/${SECRET}/`)).toThrow(/loopback/);
    }
  });

  it('refuses bad shapes with a RunHaltedError that never repeats the secret', () => {
    const bad = [
      'not a url',
      `https://acme.bitrix24.ru/rest/${SECRET}/`,
      `https://acme.bitrix24.ru/rest/0/${SECRET}/`,
      'https://acme.bitrix24.ru/rest/1//',
      `https://acme.bitrix24.ru/api/1/${SECRET}/`,
      `ftp://acme.bitrix24.ru/rest/1/${SECRET}/`,
      `https://user:${SECRET}@acme.bitrix24.ru/rest/1/${SECRET}/`,
    ];
    for (const url of bad) {
      let caught: unknown;
      try {
        parseWebhook(url);
      } catch (e) {
        caught = e;
      }
      expect(caught, url).toBeInstanceOf(RunHaltedError);
      expect((caught as RunHaltedError).code).toBe('INVALID_WEBHOOK');
      expect((caught as Error).message).not.toContain(SECRET);
    }
  });
});

describe('redact', () => {
  it('removes webhook paths and known codes, raw or encoded', () => {
    const text = `failed https://a.bitrix24.ru/rest/1/${SECRET}/batch.json and ${encodeURIComponent('https://a.bitrix24.ru/rest/1/' + SECRET + '/')} code=${SECRET}`;
    const out = redact(text, SECRET);
    expect(out).not.toContain(SECRET);
    expect(out).toContain('a.bitrix24.ru');
    expect(redact(`/rest/12/abcdef/crm.lead.get`)).toBe('/rest/12/***/crm.lead.get');
  });
});

describe('rebase (a redirect from a renamed portal)', () => {
  it('takes the new host and webhook path from the Location', () => {
    expect(rebase(`https://old.bitrix24.ru/rest/1/${SECRET}/`, `https://new.bitrix24.ru/rest/1/${SECRET}/batch.json`)).toBe(
      `https://new.bitrix24.ru/rest/1/${SECRET}/`,
    );
  });

  it('never copies our token path onto a Location that has none', () => {
    expect(rebase(`https://old.bitrix24.ru/rest/1/${SECRET}/`, 'https://new.bitrix24.ru/')).toBeUndefined();
    expect(rebase(`https://old.bitrix24.ru/rest/1/${SECRET}/`, '/login/?back=/rest/')).toBeUndefined();
  });
});

describe('redact: the one redaction for CLI, client and logs', () => {
  const url = 'https://acme.bitrix24.com/rest/7/s3cr3tC0deXyz/';
  it('hides a webhook URL, its code alone, URL-encoded forms and URL credentials', () => {
    const text = `failed ${url}crm.lead.update; code s3cr3tC0deXyz; ${encodeURIComponent(url)}; https://bob:pa55@example.com/x`;
    const out = redact(text, url);
    expect(out).not.toContain('s3cr3tC0deXyz');
    expect(out).not.toContain('pa55');
    expect(out).toContain('acme.bitrix24.com');
  });
});
