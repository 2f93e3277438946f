import { afterEach, describe, expect, it } from 'vitest';
import { randomLeads, startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

const refused = (description: string) => ({ error: '', error_description: description });

describe('sandbox: CCrmLead::CheckFields refuses the whole update', () => {
  it('TITLE sent empty in the PHP empty() sense ("" or "0"); TITLE not sent is fine', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'Keep' }]);
    for (const TITLE of ['', '0', 0]) {
      const res = await callJson(sb, 'crm.lead.update', { id, fields: { TITLE, NAME: 'changed' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused("The required field 'Lead Name' is missing.<br />"));
    }
    expect(sb.lead(id)!.TITLE).toBe('Keep');
    expect(sb.lead(id)!.NAME).toBeNull(); // nothing of a refused update is applied
    expect(sb.ledger()).toHaveLength(0);
    expect((await callJson(sb, 'crm.lead.update', { id, fields: { NAME: 'ok' } })).body.result).toBe(true);
  });

  it('OPPORTUNITY must match ^-?\\d+(\\.\\d+)?$ after "," → "." and spaces removed; numbers are not checked', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    for (const OPPORTUNITY of ['12abc', '1.2.3', '$5', '1e3']) {
      const res = await callJson(sb, 'crm.lead.update', { id, fields: { OPPORTUNITY } });
      expect(res.body).toEqual(refused('The "Opportunity" field contains invalid characters.<br />'));
    }
    expect((await callJson(sb, 'crm.lead.update', { id, fields: { OPPORTUNITY: '1 000,50' } })).body.result).toBe(true);
    expect(sb.lead(id)!.OPPORTUNITY).toBe('1000.50');
    expect((await callJson(sb, 'crm.lead.update', { id, fields: { OPPORTUNITY: '.5' } })).body.result).toBe(true);
    expect(sb.lead(id)!.OPPORTUNITY).toBe('0.50');
  });

  it('an e-mail that fails check_email() and any multifield VALUE over 250 characters, named by type and value type', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    const bad = await callJson(sb, 'crm.lead.update', { id, fields: { EMAIL: [{ VALUE: 'not an email', VALUE_TYPE: 'HOME' }] } });
    expect(bad.body).toEqual(refused('The field "Home E-mail" contains an incorrect address.<br />'));
    const long = await callJson(sb, 'crm.lead.update', { id, fields: { PHONE: [{ VALUE: '1'.repeat(251) }] } });
    expect(long.body).toEqual(refused('The field "Work Phone" must not exceed 250 characters.<br />'));
    // Every refusal is listed, in CheckFields' order.
    const both = await callJson(sb, 'crm.lead.update', { id, fields: { TITLE: '', OPPORTUNITY: 'x', WEB: [{ VALUE: 'w'.repeat(300) }] } });
    expect(both.body.error_description).toBe(
      "The required field 'Lead Name' is missing.<br />" +
        'The "Opportunity" field contains invalid characters.<br />' +
        'The field "Corporate Website" must not exceed 250 characters.<br />',
    );
    expect(sb.lead(id)!.EMAIL).toBeUndefined();
    const ok = await callJson(sb, 'crm.lead.update', {
      id,
      fields: { EMAIL: [{ VALUE: 'Ann <ann.o+x@example.co.uk>' }, { VALUE: 'b@x.io' }] },
    });
    expect(ok.body.result).toBe(true);
  });
});

describe('sandbox: multifields and read-back as the server does them', () => {
  it('an update by ID without VALUE_TYPE resets the type to the default; VALUE is trimmed; another lead’s ID is ignored', async () => {
    sb = await startSandbox();
    const [a, b] = sb.seedLeads([
      { PHONE: [{ VALUE: '+100', VALUE_TYPE: 'MOBILE' }], IM: [{ VALUE: 'tg', VALUE_TYPE: 'TELEGRAM' }] },
      { PHONE: [{ VALUE: '+200', VALUE_TYPE: 'HOME' }] },
    ]);
    const phone = sb.lead(a)!.PHONE![0].ID;
    const im = sb.lead(a)!.IM![0].ID;
    const other = sb.lead(b)!.PHONE![0].ID;
    await callJson(sb, 'crm.lead.update', {
      id: a,
      fields: {
        PHONE: [{ ID: phone, VALUE: '  +101  ' }, { ID: other, VALUE: '+999' }, { VALUE: '  +300 ' }],
        IM: [{ ID: im, VALUE: 'tg2' }],
      },
    });
    expect(sb.lead(a)!.PHONE!.map((p) => [p.VALUE, p.VALUE_TYPE])).toEqual([
      ['+101', 'WORK'],
      ['+300', 'WORK'],
    ]);
    expect(sb.lead(a)!.IM!.map((p) => [p.VALUE, p.VALUE_TYPE])).toEqual([['tg2', 'OTHER']]);
    expect(sb.lead(b)!.PHONE!.map((p) => p.VALUE)).toEqual(['+200']);
  });

  it('CONTACT_IDS is written but never read back, by crm.lead.get or crm.lead.list (even when selected)', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    expect((await callJson(sb, 'crm.lead.update', { id, fields: { CONTACT_IDS: [3, 4] } })).body.result).toBe(true);
    expect('CONTACT_IDS' in (await callJson(sb, 'crm.lead.get', { id })).body.result).toBe(false);
    const list = await callJson(sb, 'crm.lead.list', { filter: { ID: id }, select: ['ID', 'CONTACT_IDS', 'phone', 'PHONE'] });
    expect(list.body.result).toEqual([{ ID: String(id) }]);
  });

  it('crm.lead.fields marks TITLE required', async () => {
    sb = await startSandbox();
    expect((await callJson(sb, 'crm.lead.fields')).body.result.TITLE.isRequired).toBe(true);
  });

  it('seeds Open Channel IM entries (OPENLINE/IMOL, imol|…) and LINK entries; HAS_IMOL follows the imol| prefix', async () => {
    sb = await startSandbox();
    const [id] = sb.seedLeads([
      {
        IM: [
          { VALUE: 'imol|livechat|1|17|4', VALUE_TYPE: 'OPENLINE' },
          { VALUE: 'tg', VALUE_TYPE: 'TELEGRAM' },
        ],
        LINK: [{ VALUE: '42', VALUE_TYPE: 'USER' }],
      },
      { IM: [{ VALUE: 'someone', VALUE_TYPE: 'IMOL' }] },
    ]);
    expect(sb.lead(id)!.HAS_IMOL).toBe('Y');
    expect(sb.lead(id + 1)!.HAS_IMOL).toBe('N');
    const withOpt = randomLeads(200, 3, { openChannel: 1, link: 1 });
    expect(withOpt.every((l) => (l.IM as Array<{ VALUE: string }>).some((e) => e.VALUE.startsWith('imol|')))).toBe(true);
    expect(withOpt.every((l) => Array.isArray(l.LINK))).toBe(true);
    const plain = randomLeads(200, 3);
    const imol = plain.filter((l) => Array.isArray(l.IM)).length;
    expect(imol).toBeGreaterThan(5);
    expect(imol).toBeLessThan(60);
    expect(plain.some((l) => Array.isArray(l.LINK))).toBe(true);
    // The fields drawn before stay as they were for a given seed.
    expect(plain.map((l) => [l.TITLE, l.PHONE, l.EMAIL])).toEqual(
      randomLeads(200, 3, { openChannel: 0, link: 0 }).map((l) => [l.TITLE, l.PHONE, l.EMAIL]),
    );
    const seeded = sb.seedRandom(50, 9, { openChannel: 1 });
    expect(sb.lead(seeded[0])!.HAS_IMOL).toBe('Y');
  });
});

describe("sandbox: dates as ConvertDate prints them (midnight UTC shown in the server's offset)", () => {
  it('+03:00 and -05:00; a datetime with an offset is taken as its date in server time (a round trip on -05:00 drifts a day)', async () => {
    sb = await startSandbox({ tzOffset: -300 });
    const [id] = sb.seedLeads([{ TITLE: 'T' }]);
    await callJson(sb, 'crm.lead.update', { id, fields: { BIRTHDATE: '1990-05-17' } });
    expect(sb.lead(id)!.BIRTHDATE).toBe('1990-05-16T19:00:00-05:00');
    await callJson(sb, 'crm.lead.update', { id, fields: { BIRTHDATE: sb.lead(id)!.BIRTHDATE } });
    expect(sb.lead(id)!.BIRTHDATE).toBe('1990-05-15T19:00:00-05:00');
    await sb.close();
    sb = await startSandbox({ tzOffset: 180 });
    const [id2] = sb.seedLeads([{ TITLE: 'T' }]);
    await callJson(sb, 'crm.lead.update', { id: id2, fields: { BIRTHDATE: '1990-05-17T23:30:00Z' } });
    expect(sb.lead(id2)!.BIRTHDATE).toBe('1990-05-18T03:00:00+03:00');
    await callJson(sb, 'crm.lead.update', { id: id2, fields: { BIRTHDATE: '1990-05-17T03:00:00+03:00' } });
    expect(sb.lead(id2)!.BIRTHDATE).toBe('1990-05-17T03:00:00+03:00');
  });
});
