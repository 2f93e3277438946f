import { describe, expect, it } from 'vitest';
import { planUpdate, planWindow } from '../../../lambda/calls/planning/diff.ts';
import { applyOps } from '../../../lambda/calls/planning/multifield.ts';
import type { LeadFields, LeadRecord, MultifieldValue, PlannedWrite, PortalMultifield, ValidRow } from '../../../lambda/types.ts';

let line = 1;
const row = (id: number, fields: LeadFields, clears: string[] = []): ValidRow => ({
  line: ++line,
  id,
  fields,
  clears,
  warnings: [],
  raw: '',
});

/** A lead as crm.lead.list prints it. */
const lead = (id: number, extra: Record<string, unknown> = {}): LeadRecord => ({
  ID: String(id),
  TITLE: 'Lead',
  NAME: null,
  OPPORTUNITY: '12500.00',
  CURRENCY_ID: 'USD',
  COMPANY_ID: '0',
  BIRTHDATE: '1990-05-17T03:00:00+03:00',
  OPENED: 'Y',
  ASSIGNED_BY_ID: '1',
  CONTACT_IDS: ['3', '5'],
  UF_CRM_TAG: '79',
  ...extra,
});

/** Applies a planned write the way the portal would (scalars set, multifield entries by ID). */
function applyWrite(current: LeadRecord, fields: LeadFields | null): LeadRecord {
  if (!fields) return current;
  const next: Record<string, unknown> = { ...current };
  let n = 100;
  for (const [code, value] of Object.entries(fields)) {
    if (['PHONE', 'EMAIL', 'WEB', 'IM'].includes(code)) {
      const ops = (value as MultifieldValue[]).map((v) =>
        v.DELETE === 'Y'
          ? { kind: 'delete' as const, ID: v.ID!, VALUE_TYPE: '' }
          : v.ID
            ? { kind: 'update' as const, ID: v.ID, VALUE: v.VALUE, VALUE_TYPE: v.VALUE_TYPE! }
            : { kind: 'add' as const, VALUE: v.VALUE, VALUE_TYPE: v.VALUE_TYPE! },
      );
      next[code] = applyOps(code, (current[code] as PortalMultifield[]) ?? [], ops, () => String(++n));
    } else next[code] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return next as LeadRecord;
}

describe('planUpdate: scalars', () => {
  it('values that match after normalisation plan no write', () => {
    const r = row(7, {
      TITLE: 'Lead',
      NAME: '',
      OPPORTUNITY: 12500,
      CURRENCY_ID: 'usd',
      COMPANY_ID: '',
      BIRTHDATE: '1990-05-17',
      OPENED: 'Y',
      ASSIGNED_BY_ID: 1,
    });
    expect(planUpdate(lead(7), r, 'merge')).toEqual({ row: r, fields: null, changes: [] });
  });
  it('CONTACT_IDS is write-only (crm.lead.get/list never return it): written whenever the row gives it, never compared', () => {
    // Even a read that printed the same contacts (as no real portal does) does not make it "unchanged".
    const plan = planUpdate(lead(7), row(7, { TITLE: 'Lead', CONTACT_IDS: [3, 5] }), 'merge');
    expect(plan.fields).toEqual({ CONTACT_IDS: [3, 5] });
    expect(plan.changes).toEqual(['CONTACT_IDS']);
    const { CONTACT_IDS: _, ...asPrinted } = lead(7);
    expect(planUpdate(asPrinted as LeadRecord, row(7, { CONTACT_IDS: [4] }), 'merge').fields).toEqual({ CONTACT_IDS: [4] });
  });
  it('only the differing fields are sent, and named in changes', () => {
    const r = row(7, { TITLE: 'Lead', OPPORTUNITY: 13000, BIRTHDATE: '1990-05-18', OPENED: 'N' });
    const plan = planUpdate(lead(7), r, 'merge');
    expect(plan.fields).toEqual({ OPPORTUNITY: 13000, BIRTHDATE: '1990-05-18', OPENED: 'N' });
    expect(plan.changes).toEqual(['OPPORTUNITY', 'BIRTHDATE', 'OPENED']);
  });
  it('a cleared field ("") is a change only when the lead has a value', () => {
    expect(planUpdate(lead(7), row(7, { TITLE: '' }), 'merge').changes).toEqual(['TITLE']);
    expect(planUpdate(lead(7), row(7, { NAME: '' }), 'merge').fields).toBeNull();
  });
  it('a field the read did not return is written (unknown is not "equal")', () => {
    expect(planUpdate(lead(7), row(7, { POST: 'CEO' }), 'merge').fields).toEqual({ POST: 'CEO' });
  });
  it('custom enumeration ids compare as strings', () => {
    const cat = { fields: new Map([['UF_CRM_TAG', { code: 'UF_CRM_TAG', type: 'enumeration' }]]), fromPortal: true };
    expect(planUpdate(lead(7), row(7, { UF_CRM_TAG: 79 }), 'merge', cat).fields).toBeNull();
    expect(planUpdate(lead(7), row(7, { UF_CRM_TAG: '80' }), 'merge', cat).changes).toEqual(['UF_CRM_TAG']);
  });
  it('one changed address part sends every address part of the row; changes name only the changed one', () => {
    const cur = lead(7, { ADDRESS: '1 Main St', ADDRESS_CITY: 'Springfield', ADDRESS_COUNTRY: 'US' });
    const plan = planUpdate(cur, row(7, { ADDRESS: '1 Main St', ADDRESS_CITY: 'Shelbyville', ADDRESS_COUNTRY: 'US' }), 'merge');
    expect(plan.fields).toEqual({ ADDRESS: '1 Main St', ADDRESS_CITY: 'Shelbyville', ADDRESS_COUNTRY: 'US' });
    expect(plan.changes).toEqual(['ADDRESS_CITY']);
  });
});

describe('planUpdate: multifields', () => {
  const phones = [{ ID: '11', VALUE_TYPE: 'WORK', VALUE: '+1 555 0100', TYPE_ID: 'PHONE' }];
  it('merge: a present phone is not re-sent, a new one is added; labels in changes', () => {
    const plan = planUpdate(
      lead(7, { PHONE: phones }),
      row(7, {
        PHONE: [
          { VALUE: '15550100', VALUE_TYPE: 'WORK' },
          { VALUE: '+15550199', VALUE_TYPE: 'MOBILE' },
        ],
      }),
      'merge',
    );
    expect(plan.fields).toEqual({ PHONE: [{ VALUE: '+15550199', VALUE_TYPE: 'MOBILE' }] });
    expect(plan.changes).toEqual(['PHONE:MOBILE+1']);
  });
  it('a lead without the multifield key has no entries', () => {
    const plan = planUpdate(lead(7), row(7, { EMAIL: [{ VALUE: 'a@x.com', VALUE_TYPE: 'WORK' }] }), 'merge');
    expect(plan.fields).toEqual({ EMAIL: [{ VALUE: 'a@x.com', VALUE_TYPE: 'WORK' }] });
  });
  it('clears: all entries of that type deleted by ID', () => {
    const cur = lead(7, { PHONE: [...phones, { ID: '12', VALUE_TYPE: 'MOBILE', VALUE: '+2', TYPE_ID: 'PHONE' }] });
    const plan = planUpdate(cur, row(7, {}, ['PHONE:MOBILE']), 'merge');
    expect(plan.fields).toEqual({ PHONE: [{ ID: '12', VALUE: '', DELETE: 'Y' }] });
    expect(plan.changes).toEqual(['PHONE:MOBILE-1']);
    expect(planUpdate(lead(7, { PHONE: phones }), row(7, {}, ['PHONE:MOBILE']), 'merge').fields).toBeNull();
  });
  it('replaying any row after its write plans nothing, in both modes', () => {
    const cur = lead(7, {
      PHONE: [...phones, { ID: '12', VALUE_TYPE: 'WORK', VALUE: '15550100', TYPE_ID: 'PHONE' }],
      EMAIL: [{ ID: '20', VALUE_TYPE: 'WORK', VALUE: 'Old@x.com', TYPE_ID: 'EMAIL' }],
    });
    const rows = [
      row(7, {
        TITLE: 'New',
        OPPORTUNITY: '99.5',
        PHONE: [
          { VALUE: '+15550100', VALUE_TYPE: 'WORK' },
          { VALUE: '777', VALUE_TYPE: 'HOME' },
        ],
      }),
      row(7, { EMAIL: [{ VALUE: 'new@x.com', VALUE_TYPE: 'WORK' }] }, ['PHONE:WORK']),
      row(7, { EMAIL: [{ VALUE: 'OLD@x.com', VALUE_TYPE: 'HOME' }], WEB: [{ VALUE: 'https://x.com/', VALUE_TYPE: 'WORK' }] }),
    ];
    for (const mode of ['merge', 'replace'] as const) {
      for (const r of rows) {
        const first = planUpdate(cur, r, mode);
        expect(first.fields).not.toBeNull();
        let state = applyWrite(cur, first.fields);
        for (let i = 0; i < 3; i++) {
          const again = planUpdate(state, r, mode);
          expect(again.fields, `${mode} replay ${i} of line ${r.line}`).toBeNull();
          state = applyWrite(state, again.fields);
        }
      }
    }
  });
});

describe('planWindow', () => {
  it('a lead that does not exist fails NOT_FOUND without a write', () => {
    const r = row(404, { TITLE: 'x' });
    const [plan] = planWindow([r], new Map(), 'merge');
    expect(plan.fields).toBeNull();
    expect(plan.outcome).toEqual({ line: r.line, id: '404', status: 'failed', errorCode: 'NOT_FOUND', message: 'Not found', attempts: 0 });
  });
  it('a read failure fails its rows with the portal code', () => {
    const r = row(7, { TITLE: 'x' });
    const [plan] = planWindow(
      [r],
      new Map(),
      'merge',
      undefined,
      new Map([[7, { status: 'failed' as const, errorCode: 'ACCESS_DENIED', message: 'no' }]]),
    );
    expect(plan.outcome?.errorCode).toBe('ACCESS_DENIED');
  });
  it('the same ID twice: the second row is planned against the state after the first', () => {
    const leads = new Map([[7, lead(7)]]);
    const plans = planWindow(
      [
        row(7, { TITLE: 'A', PHONE: [{ VALUE: '+1555', VALUE_TYPE: 'WORK' }] }),
        row(7, { TITLE: 'A', PHONE: [{ VALUE: '1 555', VALUE_TYPE: 'WORK' }] }),
        row(7, { TITLE: 'Lead' }),
      ],
      leads,
      'merge',
    );
    expect(plans[0].fields).toEqual({ TITLE: 'A', PHONE: [{ VALUE: '+1555', VALUE_TYPE: 'WORK' }] });
    expect(plans[1].fields).toBeNull(); // same title, phone already added by row 1
    expect(plans[2].fields).toEqual({ TITLE: 'Lead' }); // back to the original: a change after row 1
  });
  it('a later row that replaces what an earlier row adds folds into the earlier add (no ID to delete yet)', () => {
    const leads = new Map([[7, lead(7, { PHONE: [{ ID: '11', VALUE_TYPE: 'MOBILE', VALUE: '+100', TYPE_ID: 'PHONE' }] })]]);
    const plans = planWindow(
      [row(7, { PHONE: [{ VALUE: '+200', VALUE_TYPE: 'MOBILE' }] }), row(7, { PHONE: [{ VALUE: '+300', VALUE_TYPE: 'MOBILE' }] })],
      leads,
      'replace',
    );
    // Row 1 would add +200 and delete +100; row 2 deletes +200 (not yet written) and adds +300.
    expect(plans[0].fields).toEqual({ PHONE: [{ ID: '11', VALUE: '', DELETE: 'Y' }] });
    expect(plans[0].changes).toEqual(['PHONE:MOBILE-1']);
    expect(plans[1].fields).toEqual({ PHONE: [{ VALUE: '+300', VALUE_TYPE: 'MOBILE' }] });
    // Whatever order the writes run in, the lead ends with exactly +300.
    for (const order of [
      [0, 1],
      [1, 0],
    ]) {
      let state = leads.get(7)!;
      for (const i of order) state = applyWrite(state, plans[i].fields);
      expect((state.PHONE ?? []).map((p) => p.VALUE)).toEqual(['+300']);
    }
  });
  it('a later row with the same value formatted otherwise changes nothing: the earlier add stands', () => {
    const plans = planWindow(
      [row(7, { PHONE: [{ VALUE: '1555', VALUE_TYPE: 'WORK' }] }), row(7, { PHONE: [{ VALUE: '+1 555', VALUE_TYPE: 'WORK' }] })],
      new Map([[7, lead(7)]]),
      'replace',
    );
    expect(plans[0].fields).toEqual({ PHONE: [{ VALUE: '1555', VALUE_TYPE: 'WORK' }] });
    expect(plans[1].fields).toBeNull();
  });
  it('a later row that moves an entry an earlier row adds to another VALUE_TYPE rewrites the earlier add', () => {
    const plans = planWindow(
      [row(7, { PHONE: [{ VALUE: '1555', VALUE_TYPE: 'WORK' }] }), row(7, { PHONE: [{ VALUE: '+1 555', VALUE_TYPE: 'MOBILE' }] })],
      new Map([[7, lead(7)]]),
      'replace',
    );
    expect(plans[0].fields).toEqual({ PHONE: [{ VALUE: '+1 555', VALUE_TYPE: 'MOBILE' }] });
    expect(plans[1].fields).toBeNull();
  });
  it('returns one plan per row in order', () => {
    const rows = [row(1, { TITLE: 'x' }), row(2, { TITLE: 'Lead' }), row(3, { TITLE: 'y' })];
    const plans: PlannedWrite[] = planWindow(
      rows,
      new Map([
        [1, lead(1)],
        [2, lead(2)],
      ]),
      'merge',
    );
    expect(plans.map((p) => p.row)).toEqual(rows);
    expect(plans.map((p) => p.outcome?.errorCode ?? (p.fields ? 'write' : 'unchanged'))).toEqual(['write', 'unchanged', 'NOT_FOUND']);
  });
});
