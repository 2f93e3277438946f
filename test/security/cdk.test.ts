import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allFiles } from '../support/badinput.ts';
import { synth, type Synth } from '../support/infra.ts';

/**
 * The webhook URL is never in the synthesised template or any asset of the cloud assembly: only the Secrets
 * Manager secret's NAME enters it, even when the URL sits in the environment of the machine that synthesises.
 */

const CODE = 's3cr3tC0deCdK4x9';
const URL = `https://acme.bitrix24.com/rest/1/${CODE}/`;

describe('CDK: no webhook in the template or the assembly', () => {
  let s: Synth;
  const saved = process.env.BITRIX24_WEBHOOK_URL;

  beforeAll(() => {
    process.env.BITRIX24_WEBHOOK_URL = URL;
    s = synth({ webhookSecretName: 'b24-lead-import/webhook' });
  }, 240_000);
  afterAll(() => {
    if (saved === undefined) delete process.env.BITRIX24_WEBHOOK_URL;
    else process.env.BITRIX24_WEBHOOK_URL = saved;
  });

  it('the template names the secret, never its value', () => {
    expect(s.json).toContain('b24-lead-import/webhook');
    for (const form of [CODE, URL, '/rest/1/', encodeURIComponent(URL)]) expect(s.json).not.toContain(form);
  });

  it('no file of the cloud assembly (templates, bundled handlers, manifests) holds it', async () => {
    const files = await allFiles(s.app.outdir);
    expect(files.size).toBeGreaterThan(2);
    expect([...files.keys()].some((p) => p.endsWith('.js') || p.endsWith('.mjs'))).toBe(true);
    for (const [path, bytes] of files) {
      const text = bytes.toString('latin1');
      expect(text.includes(CODE), path).toBe(false);
      expect(text.includes('acme.bitrix24.com'), path).toBe(false);
    }
  });
});
