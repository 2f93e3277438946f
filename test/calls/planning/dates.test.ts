import { describe, expect, it } from 'vitest';
import { planUpdate, planWindow } from '../../../lambda/calls/planning/diff.ts';
import { sameValue } from '../../../lambda/calls/planning/normalise.ts';
import type { LeadRecord, ValidRow } from '../../../lambda/types.ts';

// The portal prints a `date` field with ConvertDate = date('c', MakeTimeStamp(d) + date('Z')): midnight UTC of
// the date, shown in the server's offset. On a negative offset the printed date part is the day before.
const date = { code: 'BIRTHDATE', type: 'date' };

/** What a portal on `offset` (hours) prints for the date `d`. */
function printed(d: string, offset: number): string {
  const shown = new Date(Date.parse(`${d}T00:00:00Z`) + offset * 3_600_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const minutes = Math.abs(offset) * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${shown}${sign}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}

let line = 1;
const row = (id: number, fields: ValidRow['fields']): ValidRow => ({ line: ++line, id, fields, clears: [], warnings: [], raw: '' });

describe('date fields compare as the portal prints them', () => {
  it('prints as documented', () => {
    expect(printed('1990-05-17', 3)).toBe('1990-05-17T03:00:00+03:00');
    expect(printed('1990-05-17', 5.5)).toBe('1990-05-17T05:30:00+05:30');
    expect(printed('1990-05-17', -5)).toBe('1990-05-16T19:00:00-05:00');
  });
  it.each([-12, -11, -8, -5, -3, -1, 0, 1, 3, 5.5, 9, 12, 14])('offset %s: the printed value equals the date, not its neighbours', (h) => {
    for (const d of ['1990-05-17', '2000-01-01', '2024-02-29', '1999-12-31']) {
      const p = printed(d, h);
      expect(sameValue(date, p, d), `${p} vs ${d}`).toBe(true);
      const next = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const prev = new Date(Date.parse(`${d}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      expect(sameValue(date, p, next), `${p} vs ${next}`).toBe(false);
      expect(sameValue(date, p, prev), `${p} vs ${prev}`).toBe(false);
    }
  });
  it('a DST hour between the date and today does not move the day (rounded to the nearest midnight)', () => {
    expect(sameValue(date, '1990-05-16T20:00:00-05:00', '1990-05-17')).toBe(true); // printed with today's -05:00, stored under -04:00
    expect(sameValue(date, '1990-05-17T02:00:00+03:00', '1990-05-17')).toBe(true);
  });
  it('a plain YYYY-MM-DD and the empty value still work', () => {
    expect(sameValue(date, '1990-05-17', '1990-05-17')).toBe(true);
    expect(sameValue(date, '1990-05-17', '1990-05-16')).toBe(false);
    expect(sameValue(date, '', '')).toBe(true);
    expect(sameValue(date, null, '')).toBe(true);
    expect(sameValue(date, '', '1990-05-17')).toBe(false);
    expect(sameValue(date, '1990-05-16T19:00:00-05:00', '')).toBe(false);
  });
  it('multiple date custom fields round each value', () => {
    const multi = { code: 'UF_CRM_DAYS', type: 'date', multiple: true };
    expect(sameValue(multi, ['1990-05-16T19:00:00-05:00', '2001-02-02T19:00:00-05:00'], ['2001-02-03', '1990-05-17'])).toBe(true);
  });
});

describe('a file of birthdays on a -05:00 portal', () => {
  const birthdays = ['1990-05-17', '1985-01-01', '2000-12-31', '1970-06-30'];
  const leads = new Map<number, LeadRecord>(birthdays.map((d, i) => [i + 1, { ID: String(i + 1), BIRTHDATE: printed(d, -5) }]));
  it('imported again after the portal stored it plans no write (so importing twice writes once)', () => {
    const plans = planWindow(
      birthdays.map((d, i) => row(i + 1, { BIRTHDATE: d })),
      leads,
      'merge',
    );
    expect(plans.map((p) => p.fields)).toEqual([null, null, null, null]);
  });
  it('a row that moves a date one day back is written', () => {
    const plan = planUpdate(leads.get(1)!, row(1, { BIRTHDATE: '1990-05-16' }), 'merge');
    expect(plan.fields).toEqual({ BIRTHDATE: '1990-05-16' });
    expect(plan.changes).toEqual(['BIRTHDATE']);
  });
  it('a row that moves a date one day forward is written', () => {
    expect(planUpdate(leads.get(1)!, row(1, { BIRTHDATE: '1990-05-18' }), 'merge').fields).toEqual({ BIRTHDATE: '1990-05-18' });
  });
});
