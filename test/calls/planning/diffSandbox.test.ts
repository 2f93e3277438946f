import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../../lambda/calls/client.ts';
import { createDiffPlanner } from '../../../lambda/calls/planning/diff.ts';
import { normaliseMulti } from '../../../lambda/calls/planning/normalise.ts';
import { loadCatalogue } from '../../../lambda/calls/preflight.ts';
import { createSender } from '../../../lambda/calls/sender.ts';
import { parseRunOptions, type RunOptions } from '../../../lambda/config.ts';
import { standardCatalogue } from '../../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../../lambda/payloads/header.ts';
import { compileRows } from '../../../lambda/payloads/compile.ts';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import type { LeadRecord, RowOutcome, ValidRow } from '../../../lambda/types.ts';

// The sandbox listens on loopback over http: the client allows that only in the explicit local mode.
vi.stubEnv('B24_LOCAL_MODE', '1');

const FAST = { rate: 1000, burst: 1000, operatingLimit: 10_000, operatingWindow: 600, concurrency: 4 };
let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function portal(faults = {}) {
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000, seed: 11, faults });
  return sb;
}

/** Header + CSV cells → ValidRows through the real header check and payload compiler, with the portal's catalogue. */
async function rowsFrom(s: Sandbox, header: string[], records: string[][], options: RunOptions): Promise<ValidRow[]> {
  const api = createClient({ webhookUrl: s.webhookUrl, limits: options.limits });
  const catalogue = await loadCatalogue(api, standardCatalogue());
  const columns = resolveHeader(header, { mapping: {}, catalogue });
  const check = compileRows(columns, options, catalogue, header.length);
  return records.map((cells, i) => {
    const r = check({ line: i + 2, cells, raw: cells.join(','), start: 0, end: 0 });
    if (!r.ok) throw new Error(r.outcome.message);
    return r.row;
  });
}

/** One import run: a fresh client, the diff planner, the sender, windows of 500 rows. */
async function importRows(s: Sandbox, rows: ValidRow[], options: RunOptions): Promise<RowOutcome[]> {
  const api = createClient({ webhookUrl: s.webhookUrl, limits: options.limits, backoffMs: 5 });
  const catalogue = await loadCatalogue(api, standardCatalogue());
  const planner = createDiffPlanner({ api, options, catalogue });
  const sender = createSender({ api, planner, options });
  const out: RowOutcome[] = [];
  for (let i = 0; i < rows.length; i += 500) out.push(...(await sender.send(rows.slice(i, i + 500), Date.now() + 120_000)));
  return out;
}

function writes(s: Sandbox): number {
  return s.ledger().filter((e) => e.method === 'crm.lead.update').length;
}

/** Every lead with its multifields, as a comparable snapshot (DATE_MODIFY moves with any write). */
function snapshot(s: Sandbox): Record<string, unknown>[] {
  return s.leads().map((l) => {
    const { DATE_MODIFY: _m, ...rest } = l as Record<string, unknown>;
    return rest;
  });
}

function duplicated(lead: LeadRecord): string[] {
  const out: string[] = [];
  for (const type of ['PHONE', 'EMAIL'] as const) {
    const keys = (lead[type] ?? []).map((e) => normaliseMulti(type, e.VALUE));
    if (new Set(keys).size !== keys.length) out.push(`${lead.ID} ${type}: ${keys.join(', ')}`);
  }
  return out;
}

const HEADER = [
  'ID',
  'TITLE',
  'OPPORTUNITY',
  'CURRENCY_ID',
  'BIRTHDATE',
  'OPENED',
  'STATUS_ID',
  'Segment',
  'PHONE_MOBILE',
  'EMAIL',
  'CONTACT_IDS',
];

function file(ids: number[]): string[][] {
  return ids.map((id, i) => [
    String(id),
    `Lead ${id} updated`,
    i % 3 === 0 ? '12500' : `${i}.5`,
    i % 2 ? 'usd' : 'EUR',
    i % 4 === 0 ? '' : '17.05.1990',
    i % 2 ? 'Y' : 'N',
    i % 5 === 0 ? 'IN_PROCESS' : 'NEW',
    i % 3 === 0 ? 'wholesale' : 'Retail',
    // phones in a format different from what is already on some leads; some with two numbers
    i % 7 === 0
      ? `+1 (555) 01${String(i % 100).padStart(2, '0')} | +1 555 02${String(i % 100).padStart(2, '0')}`
      : `+1 555 01${String(i % 100).padStart(2, '0')}`,
    `User${id}@Example.com`,
    i % 6 === 0 ? `${i + 1}, ${i + 2}` : '',
  ]);
}

describe('diff mode against the sandbox', () => {
  it('importing the same 2,000-row file three times equals importing it once; runs 2 and 3 write only the write-only CONTACT_IDS', async () => {
    const s = await portal();
    const options = parseRunOptions({ limits: FAST });
    // Some leads already hold the row's phone in another format, one holds it twice, some hold the e-mail in capitals.
    const ids = s.seedLeads(
      Array.from({ length: 2000 }, (_, i) => {
        const lead: Record<string, unknown> = { TITLE: `Lead ${i}` };
        if (i % 10 === 1) lead.PHONE = [{ VALUE: `1555-01${String(i % 100).padStart(2, '0')}`, VALUE_TYPE: 'MOBILE' }];
        if (i === 3)
          lead.PHONE = [
            { VALUE: '+1 555 0103', VALUE_TYPE: 'MOBILE' },
            { VALUE: '15550103', VALUE_TYPE: 'WORK' },
          ];
        if (i % 10 === 2) lead.EMAIL = [{ VALUE: `USER${i + 1}@EXAMPLE.COM`, VALUE_TYPE: 'WORK' }];
        return lead;
      }),
    );
    const rows = await rowsFrom(s, HEADER, file(ids), options);

    const first = await importRows(s, rows, options);
    expect(first.filter((o) => o.status !== 'updated' && o.status !== 'unchanged')).toEqual([]);
    const afterOnce = snapshot(s);
    const writesOnce = writes(s);
    expect(writesOnce).toBeGreaterThan(0);
    expect(writesOnce).toBeLessThanOrEqual(2000);
    // Lead #4 came with its phone twice (MOBILE and WORK): merge adds no third copy and deletes nothing.
    expect(
      s
        .leads()
        .filter((l) => l.ID !== String(ids[3]))
        .flatMap(duplicated),
    ).toEqual([]);
    expect(s.lead(ids[3])!.PHONE).toHaveLength(2);
    // The pre-existing phone was not sent again; the changes column names what changed.
    const lead3 = first[3];
    expect(lead3.changes ?? '').not.toMatch(/PHONE/);
    expect(first[0].changes).toMatch(/TITLE/);

    // CONTACT_IDS is write-only (the real portal never returns it), so the rows that give it write it again, and
    // only it; every other row is unchanged and the leads end as they were.
    const withContacts = rows.filter((r) => 'CONTACT_IDS' in r.fields);
    expect(withContacts.length).toBeGreaterThan(0);
    let writesSoFar = writesOnce;
    for (const run of [2, 3]) {
      const again = await importRows(s, rows, options);
      writesSoFar += withContacts.length;
      expect(writes(s), `run ${run} wrote`).toBe(writesSoFar);
      for (const [i, o] of again.entries()) {
        if ('CONTACT_IDS' in rows[i].fields)
          expect(o, `run ${run} line ${o.line}`).toMatchObject({ status: 'updated', changes: 'CONTACT_IDS' });
        else expect(o, `run ${run} line ${o.line}`).toMatchObject({ status: 'unchanged', attempts: 0 });
      }
      expect(snapshot(s)).toEqual(afterOnce);
    }
  });

  it('replace mode ends with exactly the row values of the type (other VALUE_TYPEs and copies deleted); a re-run writes nothing', async () => {
    const s = await portal();
    const options = parseRunOptions({ limits: FAST, multifield: 'replace' });
    const [a, b] = s.seedLeads([
      {
        PHONE: [
          { VALUE: '+1 555 0001', VALUE_TYPE: 'MOBILE' },
          { VALUE: '15550001', VALUE_TYPE: 'MOBILE' },
          { VALUE: '+1 555 0009', VALUE_TYPE: 'MOBILE' },
          { VALUE: '+1 555 7777', VALUE_TYPE: 'WORK' },
        ],
      },
      { PHONE: [{ VALUE: '+1 555 0003', VALUE_TYPE: 'WORK' }] },
    ]);
    const rows = await rowsFrom(
      s,
      ['ID', 'PHONE_MOBILE'],
      [
        [String(a), '+1 555 0001 | +1 555 0002'],
        [String(b), '+1 555 0003'],
      ],
      options,
    );
    const out = await importRows(s, rows, options);
    expect(out.map((o) => o.status)).toEqual(['updated', 'updated']);
    const phones = (id: number) => (s.lead(id)!.PHONE ?? []).map((p) => `${p.VALUE_TYPE} ${normaliseMulti('PHONE', p.VALUE)}`).sort();
    expect(phones(a)).toEqual(['MOBILE 15550001', 'MOBILE 15550002']);
    expect(phones(b)).toEqual(['MOBILE 15550003']); // moved from WORK, not added twice
    const before = writes(s);
    const again = await importRows(s, rows, options);
    expect(again.map((o) => o.status)).toEqual(['unchanged', 'unchanged']);
    expect(writes(s)).toBe(before);
  });

  it('with resets after apply at 5%, no lead ends with a duplicated phone or e-mail', async () => {
    const s = await portal({ resetAfterApply: 0.05 });
    const options = parseRunOptions({ limits: FAST });
    const ids = s.seedLeads(Array.from({ length: 600 }, (_, i) => ({ TITLE: `L${i}` })));
    const rows = await rowsFrom(s, HEADER, file(ids), options);
    const out = await importRows(s, rows, options);
    expect(s.stats().faults.resetAfterApply ?? 0).toBeGreaterThan(0);
    expect(s.leads().flatMap(duplicated)).toEqual([]);
    expect(out.filter((o) => o.status !== 'updated' && o.status !== 'unchanged').map((o) => o.errorCode)).toEqual([]);
    // And the file's phones and e-mails are all there.
    for (const [i, id] of ids.entries()) {
      const lead = s.lead(id)!;
      expect((lead.EMAIL ?? []).map((e) => e.VALUE.toLowerCase())).toEqual([`user${id}@example.com`]);
      expect((lead.PHONE ?? []).length).toBe(i % 7 === 0 ? 2 : 1);
    }
    s.setFaults({});
    const before = writes(s);
    await importRows(s, rows, options);
    // Only the write-only CONTACT_IDS rows write again.
    expect(writes(s)).toBe(before + rows.filter((r) => 'CONTACT_IDS' in r.fields).length);
  });

  it('rows for leads that do not exist fail NOT_FOUND without a write', async () => {
    const s = await portal();
    const options = parseRunOptions({ limits: FAST });
    const [id] = s.seedLeads([{ TITLE: 'x' }]);
    const rows = await rowsFrom(
      s,
      ['ID', 'TITLE'],
      [
        [String(id), 'y'],
        ['999999', 'z'],
      ],
      options,
    );
    const out = await importRows(s, rows, options);
    expect(out[1]).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND', message: 'Not found', attempts: 0 });
    expect(s.ledger().map((e) => e.id)).toEqual([id]);
  });

  it('a dry run reads and reports per row which fields would change, writing nothing', async () => {
    const s = await portal();
    const options = parseRunOptions({ limits: FAST, dryRun: true });
    const [a, b] = s.seedLeads([
      { TITLE: 'Same', OPPORTUNITY: 12500, PHONE: [{ VALUE: '+1 555 0100', VALUE_TYPE: 'MOBILE' }] },
      { TITLE: 'Old', OPPORTUNITY: 10, PHONE: [{ VALUE: '+1 555 0100', VALUE_TYPE: 'MOBILE' }] },
    ]);
    const rows = await rowsFrom(
      s,
      ['ID', 'TITLE', 'OPPORTUNITY', 'PHONE_MOBILE', 'EMAIL_HOME'],
      [
        [String(a), 'Same', '12500.00', '15550100', ''],
        [String(b), 'New', '10', '+1 555 0100 | +1 555 0199', 'a@x.com'],
      ],
      options,
    );
    const out = await importRows(s, rows, options);
    expect(out.map((o) => [o.status, o.changes ?? ''])).toEqual([
      ['valid', ''],
      ['valid', 'TITLE;PHONE:MOBILE+1;EMAIL:HOME+1'],
    ]);
    expect(s.ledger()).toHaveLength(0);
  });
});
