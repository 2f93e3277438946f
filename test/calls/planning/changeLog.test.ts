import { describe, expect, it } from 'vitest';
import { planWindow } from '../../../lambda/calls/planning/diff.ts';
import type { LeadRecord, ValidRow } from '../../../lambda/types.ts';

const row = (line: number, id: number, fields: ValidRow['fields']): ValidRow => ({ line, id, fields, clears: [], warnings: [], raw: '' });

describe('the plan carries the change log of each write', () => {
  it('one entry per changed field against the lead as read; two rows on one lead chain', () => {
    const leads = new Map<number, LeadRecord>([
      [
        7,
        { ID: '7', TITLE: 'Old', COMMENTS: 'same', PHONE: [{ ID: '11', VALUE: '+7 900 111-22-33', VALUE_TYPE: 'WORK', TYPE_ID: 'PHONE' }] },
      ],
    ]);
    const plans = planWindow(
      [
        row(2, 7, { TITLE: 'Middle', COMMENTS: 'same', PHONE: [{ VALUE: '+7 900 555-66-77', VALUE_TYPE: 'MOBILE' }] }),
        row(3, 7, { TITLE: 'New' }),
      ],
      leads,
      'merge',
    );
    expect(plans.map((p) => p.log?.map((e) => [e.line, e.field, e.before, e.after]))).toEqual([
      [
        [2, 'TITLE', 'Old', 'Middle'],
        [2, 'PHONE:MOBILE', '', '+7 900 555-66-77'],
      ],
      [[3, 'TITLE', 'Middle', 'New']],
    ]);
  });

  it('a row that writes nothing has no log', () => {
    const plans = planWindow([row(2, 7, { TITLE: 'Same' })], new Map([[7, { ID: '7', TITLE: 'Same' }]]), 'merge');
    expect(plans[0].fields).toBeNull();
    expect(plans[0].log).toBeUndefined();
  });
});
