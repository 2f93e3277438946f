import { describe, expect, it } from 'vitest';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { changeEntries, changesHeader, formatChange, parseEntryField } from '../../lambda/report/changeLog.ts';
import type { LeadRecord } from '../../lambda/types.ts';
import { netChanges, planRevert } from '../../lambda/undo/revert.ts';

const catalogue = standardCatalogue();

const before: LeadRecord = {
  ID: '7',
  TITLE: 'Old title',
  OPPORTUNITY: '12500.00',
  OPENED: 'Y',
  PHONE: [
    { ID: '11', VALUE: '+7 900 111-22-33', VALUE_TYPE: 'WORK', TYPE_ID: 'PHONE' },
    { ID: '12', VALUE: '+7 900 222-33-44', VALUE_TYPE: 'HOME', TYPE_ID: 'PHONE' },
  ],
  EMAIL: [{ ID: '21', VALUE: 'old@example.com', VALUE_TYPE: 'WORK', TYPE_ID: 'EMAIL' }],
};

/** What the run sends: a new title, the same amount written differently, one phone added, one deleted, one rewritten. */
const sent = {
  TITLE: 'New title',
  OPPORTUNITY: 12500,
  PHONE: [
    { VALUE: '+7 900 555-66-77', VALUE_TYPE: 'MOBILE' },
    { ID: '12', VALUE: '', DELETE: 'Y' as const },
  ],
  EMAIL: [{ ID: '21', VALUE: 'new@example.com', VALUE_TYPE: 'HOME' }],
};

/** The lead after the run, as the portal would print it (the added phone got ID 13). */
const after: LeadRecord = {
  ...before,
  TITLE: 'New title',
  PHONE: [
    { ID: '11', VALUE: '+7 900 111-22-33', VALUE_TYPE: 'WORK', TYPE_ID: 'PHONE' },
    { ID: '13', VALUE: '+7 900 555-66-77', VALUE_TYPE: 'MOBILE', TYPE_ID: 'PHONE' },
  ],
  EMAIL: [{ ID: '21', VALUE: 'new@example.com', VALUE_TYPE: 'HOME', TYPE_ID: 'EMAIL' }],
};

describe('the change log of one write', () => {
  it('has one entry per changed field and per multifield entry; an unchanged value written differently has none', () => {
    const entries = changeEntries(5, 7, before, sent, catalogue);
    expect(entries.map((e) => [e.field, e.before, e.after])).toEqual([
      ['TITLE', 'Old title', 'New title'],
      ['PHONE:MOBILE', '', '+7 900 555-66-77'],
      ['PHONE:HOME#12', '+7 900 222-33-44', ''],
      ['EMAIL:HOME#21', 'old@example.com', 'new@example.com'],
    ]);
    expect(changesHeader()).toBe('line,id,field,before,after\r\n');
    // A move between VALUE_TYPEs shows both types; cells are formula-safe like the report's.
    expect(formatChange(entries[3])).toBe('5,7,EMAIL:HOME#21,WORK:old@example.com,HOME:new@example.com\r\n');
    expect(formatChange({ line: 2, id: 7, field: 'TITLE', before: '=cmd()', after: 'x' })).toBe("2,7,TITLE,'=cmd(),x\r\n");
    expect(parseEntryField('PHONE:HOME#12')).toEqual({ type: 'PHONE', valueType: 'HOME', entryId: '12' });
    expect(parseEntryField('TITLE')).toBeUndefined();
  });
});

describe('undo of one lead', () => {
  it('puts every field back where the lead still holds what the run wrote', () => {
    const plan = planRevert(changeEntries(5, 7, before, sent, catalogue), after, catalogue);
    expect(plan.conflicts).toEqual([]);
    expect(plan.fields).toEqual({
      TITLE: 'Old title',
      PHONE: [
        { ID: '13', VALUE: '', DELETE: 'Y' },
        { VALUE: '+7 900 222-33-44', VALUE_TYPE: 'HOME' },
      ],
      EMAIL: [{ ID: '21', VALUE: 'old@example.com', VALUE_TYPE: 'WORK' }],
    });
  });

  it('leaves a field someone changed since, and names it with its current value', () => {
    const moved: LeadRecord = {
      ...after,
      TITLE: 'Changed by a manager',
      EMAIL: [{ ID: '21', VALUE: 'boss@example.com', VALUE_TYPE: 'HOME', TYPE_ID: 'EMAIL' }],
    };
    const plan = planRevert(changeEntries(5, 7, before, sent, catalogue), moved, catalogue);
    expect(plan.conflicts).toEqual([
      { field: 'TITLE', current: 'Changed by a manager' },
      { field: 'EMAIL:HOME#21', current: 'HOME:boss@example.com' },
    ]);
    expect(Object.keys(plan.fields!)).toEqual(['PHONE']);
  });

  it('a lead already back as it was needs no write', () => {
    expect(planRevert(changeEntries(5, 7, before, sent, catalogue), before, catalogue)).toEqual({ fields: null, conflicts: [] });
  });

  it('two rows of one run on one field undo to the first value', () => {
    const net = netChanges([
      { line: 2, id: 7, field: 'TITLE', before: 'A', after: 'B' },
      { line: 9, id: 7, field: 'TITLE', before: 'B', after: 'C' },
      { line: 9, id: 7, field: 'NAME', before: 'X', after: 'Y' },
      { line: 10, id: 7, field: 'NAME', before: 'Y', after: 'X' },
    ]);
    expect(net).toEqual([{ line: 9, id: 7, field: 'TITLE', before: 'A', after: 'C' }]);
  });
});
