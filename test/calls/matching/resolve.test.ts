import { describe, expect, it } from 'vitest';
import { keyColumn, rowKey, type MatchKey, type MatchSpec } from '../../../lambda/calls/matching/keys.ts';
import { decide } from '../../../lambda/calls/matching/outcome.ts';
import { resolveKeys } from '../../../lambda/calls/matching/resolve.ts';
import { DEFERRED } from '../../../lambda/types.ts';
import { fakePortal, requestsByMethod } from './fakePortal.ts';

const EMAIL: MatchSpec = { kind: 'EMAIL' };
const PHONE: MatchSpec = { kind: 'PHONE' };
const CARD: MatchSpec = { kind: 'UF', code: 'UF_CRM_LOYALTY_CARD', spec: { code: 'UF_CRM_LOYALTY_CARD', type: 'string' } };
const FAR = Date.now() + 3_600_000;

function key(match: MatchSpec, value: string): MatchKey {
  const k = rowKey(match, 'COL', [value]);
  if (!k.ok) throw new Error(k.message);
  return k.key;
}

describe('row keys', () => {
  it('the first column of the field in header order is the key column', () => {
    const cols = [
      { index: 3, code: 'EMAIL', header: 'EMAIL_HOME' },
      { index: 1, code: 'EMAIL', header: 'EMAIL_WORK' },
      { index: 0, code: 'ID', header: 'ID' },
    ];
    expect(keyColumn(EMAIL, cols)?.header).toBe('EMAIL_WORK');
    expect(keyColumn(PHONE, cols)).toBeUndefined();
  });

  it('identity is the portal code; the value searched is the cell as written', () => {
    expect(rowKey(EMAIL, 'EMAIL_WORK', [{ VALUE: ' Ann@X.com ', VALUE_TYPE: 'WORK' }])).toEqual({
      ok: true,
      key: { key: 'ann@x.com', value: 'Ann@X.com' },
    });
    expect(rowKey(PHONE, 'PHONE_WORK', ['8 (912) 345-67-89'])).toEqual({
      ok: true,
      key: { key: '79123456789', value: '8 (912) 345-67-89' },
    });
    expect(rowKey({ kind: 'UF', code: 'UF_CRM_N', spec: { code: 'UF_CRM_N', type: 'integer' } }, 'N', '042')).toEqual({
      ok: true,
      key: { key: '42', value: '042' },
    });
  });

  it('an empty key, a cell with several values, a phone without digits: invalid, naming the column', () => {
    expect(rowKey(EMAIL, 'EMAIL_WORK', [])).toEqual({
      ok: false,
      message: 'EMAIL_WORK: the key is empty; with --match EMAIL every row needs one',
    });
    expect(rowKey(EMAIL, 'EMAIL_WORK', ['a@x.com', 'b@x.com'])).toEqual({
      ok: false,
      message: 'EMAIL_WORK: the key cell holds 2 values ("a@x.com", "b@x.com"); a key must be one value',
    });
    expect(rowKey(PHONE, 'PHONE', ['ext'])).toMatchObject({ ok: false, message: 'PHONE: "ext" is not a usable phone key' });
  });
});

describe('resolveKeys', () => {
  it('e-mails: one lead → its ID, none → NO_MATCH, several → AMBIGUOUS_MATCH listing them; candidates are kept for the diff', async () => {
    const fake = fakePortal();
    const [ann, , bob, , dup1, dup2] = fake.store.seed([
      { EMAIL: [{ VALUE: 'Ann@Example.com' }], NAME: 'Ann' },
      { EMAIL: [{ VALUE: 'joann@example.com' }] },
      { EMAIL: [{ VALUE: 'bob@example.com' }, { VALUE: 'robert@example.com' }] },
      { EMAIL: [{ VALUE: 'other@example.com' }] },
      { EMAIL: [{ VALUE: 'team@example.com' }] },
      { EMAIL: [{ VALUE: 'TEAM@example.com' }] },
    ]);
    const keys = ['ann@example.com', 'ROBERT@example.com', 'nobody@example.com', 'team@example.com'].map((v) => key(EMAIL, v));
    const { keys: got, leads } = await resolveKeys(fake, EMAIL, keys, { deadline: FAR, select: ['NAME'] });
    expect(got.get('ann@example.com')).toEqual({ ids: [ann] });
    expect(got.get('robert@example.com')).toEqual({ ids: [bob] });
    expect(got.get('nobody@example.com')).toEqual({ ids: [] });
    expect(got.get('team@example.com')).toEqual({ ids: [dup1, dup2] });
    expect(leads.get(ann)).toMatchObject({ ID: String(ann), NAME: 'Ann', EMAIL: [{ VALUE: 'Ann@Example.com' }] });
    expect(requestsByMethod(fake)).toEqual({ 'crm.duplicate.findbycomm': 1, 'crm.lead.list': 1 });
    expect(decide(EMAIL, keys[3], got.get('team@example.com'))).toEqual({
      matched: false,
      status: 'failed',
      errorCode: 'AMBIGUOUS_MATCH',
      message: `2 leads have the e-mail "team@example.com": ${dup1}, ${dup2}`,
    });
    expect(decide(EMAIL, keys[2], got.get('nobody@example.com'))).toMatchObject({
      errorCode: 'NO_MATCH',
      message: 'no lead has the e-mail "nobody@example.com"',
    });
  });

  it('phones written in mixed formats match the way the portal normalises them; the answer never depends on grouping', async () => {
    const fake = fakePortal();
    const [a, b, c] = fake.store.seed([
      { PHONE: [{ VALUE: '+7 (912) 345-67-89' }] },
      { PHONE: [{ VALUE: '8 495 123 45 67;12' }] },
      { PHONE: [{ VALUE: '9123456789' }] },
    ]);
    const keys = ['8-912-345-67-89', '+7 495 123-45-67', '912 345 67 89', '+7 999 000 00 00'].map((v) => key(PHONE, v));
    const { keys: got } = await resolveKeys(fake, PHONE, keys, { deadline: FAR });
    expect(got.get('79123456789')).toEqual({ ids: [a] });
    expect(got.get('74951234567')).toEqual({ ids: [b] }); // the stored extension is ignored
    expect(got.get('9123456789')).toEqual({ ids: [c] }); // no country: another key, as on the portal
    expect(got.get('79990000000')).toEqual({ ids: [] });
  });

  it('never attributes a candidate that does not hold the key (stale index, or another key of the command)', async () => {
    const fake = fakePortal();
    const [a, b] = fake.store.seed([{ EMAIL: [{ VALUE: 'a@x.com' }] }, { EMAIL: [{ VALUE: 'b@x.com' }] }]);
    const keys = ['a@x.com', 'b@x.com'].map((v) => key(EMAIL, v));
    const { keys: got } = await resolveKeys(fake, EMAIL, keys, { deadline: FAR });
    expect(got.get('a@x.com')).toEqual({ ids: [a] });
    expect(got.get('b@x.com')).toEqual({ ids: [b] });
  });

  it('a failed findbycomm command fails its own keys only; a failed read fails the keys of the commands it served', async () => {
    const fake = fakePortal();
    fake.store.seed(Array.from({ length: 45 }, (_, i) => ({ EMAIL: [{ VALUE: `u${i}@x.com` }] })));
    const keys = Array.from({ length: 45 }, (_, i) => key(EMAIL, `u${i}@x.com`));
    fake.fail = (method, p) => {
      const values = Object.values((p.values ?? {}) as Record<string, string>);
      return method === 'crm.duplicate.findbycomm' && values.includes('u20@x.com')
        ? { error: 'ERROR_CORE', error_description: 'SQL query error!' }
        : undefined;
    };
    const { keys: got } = await resolveKeys(fake, EMAIL, keys, { deadline: FAR });
    expect(got.get('u0@x.com')?.ids).toHaveLength(1);
    expect(got.get('u20@x.com')).toEqual({
      ids: [],
      failure: { status: 'failed', errorCode: 'ERROR_CORE', message: 'the duplicate search failed: SQL query error!' },
    });
    expect(got.get('u39@x.com')?.failure?.errorCode).toBe('ERROR_CORE');
    expect(got.get('u40@x.com')?.ids).toHaveLength(1);
    expect(fake.requests[0].commands).toHaveLength(3); // 20 + 20 + 5 values
  });

  it('a failed candidate read leaves every key of its command undecided (any of them may hold the unread lead)', async () => {
    const fake = fakePortal();
    fake.store.seed([{ EMAIL: [{ VALUE: 'a@x.com' }] }]);
    fake.fail = (method) => (method === 'crm.lead.list' ? { error: 'ERROR_CORE', error_description: 'SQL query error!' } : undefined);
    const { keys: got } = await resolveKeys(fake, EMAIL, [key(EMAIL, 'a@x.com'), key(EMAIL, 'none@x.com')], { deadline: FAR });
    expect(got.get('a@x.com')).toEqual({
      ids: [],
      failure: { status: 'failed', errorCode: 'ERROR_CORE', message: 'reading the candidate lead failed: SQL query error!' },
    });
    expect(got.get('none@x.com')?.failure?.errorCode).toBe('ERROR_CORE');
  });

  it('past the deadline the rest is DEFERRED; a DeferredError from the client defers its group and later ones', async () => {
    const fake = fakePortal();
    fake.store.seed(Array.from({ length: 1500 }, (_, i) => ({ EMAIL: [{ VALUE: `u${i}@x.com` }] })));
    const keys = Array.from({ length: 1500 }, (_, i) => key(EMAIL, `u${i}@x.com`));
    // The first group always goes (as the diff's reads); no later one starts past the deadline.
    const r = await resolveKeys(fake, EMAIL, keys, { deadline: 10, now: () => 100 });
    expect(r.keys.get('u0@x.com')?.ids).toHaveLength(1);
    expect(r.keys.get('u999@x.com')?.ids).toHaveLength(1);
    expect(r.keys.get('u1000@x.com')?.failure?.errorCode).toBe(DEFERRED);
    expect(requestsByMethod(fake)).toEqual({ 'crm.duplicate.findbycomm': 1, 'crm.lead.list': 1 });
    const again = fakePortal();
    again.deferAt = 0;
    const d = await resolveKeys(again, EMAIL, keys.slice(0, 3), { deadline: FAR });
    expect(d.keys.get('u0@x.com')).toEqual({
      ids: [],
      failure: { status: 'skipped', errorCode: DEFERRED, message: 'deferred to the next chunk' },
    });
  });

  it('custom field: one crm.lead.list per key, exact after the diff normalising (case matters for text)', async () => {
    const fake = fakePortal();
    const [a, , c, d] = fake.store.seed([
      { UF_CRM_LOYALTY_CARD: 'CARD-1' },
      { UF_CRM_LOYALTY_CARD: 'card-1x' },
      { UF_CRM_LOYALTY_CARD: 'CARD-2' },
      { UF_CRM_LOYALTY_CARD: 'CARD-2' },
    ]);
    const keys = ['CARD-1', 'card-1', 'CARD-2', 'CARD-9'].map((v) => key(CARD, v));
    const { keys: got, leads } = await resolveKeys(fake, CARD, keys, { deadline: FAR });
    expect(got.get('CARD-1')).toEqual({ ids: [a] });
    expect(got.get('card-1')).toEqual({ ids: [] }); // the portal's `=` is case-insensitive; the stored value is not "card-1"
    expect(got.get('CARD-2')).toEqual({ ids: [c, d] });
    expect(got.get('CARD-9')).toEqual({ ids: [] });
    expect(leads.get(a)?.UF_CRM_LOYALTY_CARD).toBe('CARD-1');
    expect(requestsByMethod(fake)).toEqual({ 'crm.lead.list': 1 });
  });

  it('custom-field keys go 50 to a request', async () => {
    const fake = fakePortal();
    const keys = Array.from({ length: 120 }, (_, i) => key(CARD, `C${i}`));
    await resolveKeys(fake, CARD, keys, { deadline: FAR });
    expect(fake.requests.map((r) => r.commands.length)).toEqual([50, 50, 20]);
  });
});
