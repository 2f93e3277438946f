import { describe, expect, it } from 'vitest';
import { planUpdate } from '../../../lambda/calls/planning/diff.ts';
import { planMultifield } from '../../../lambda/calls/planning/multifield.ts';
import type { LeadRecord, PortalMultifield, ValidRow } from '../../../lambda/types.ts';

// Real leads carry Open Channel bindings: IM entries of VALUE_TYPE OPENLINE/IMOL whose VALUE starts "imol|",
// and LINK entries. Deleting or rewriting them unlinks the lead from its chats.
const im = (ID: string, VALUE_TYPE: string, VALUE: string): PortalMultifield => ({ ID, VALUE_TYPE, VALUE, TYPE_ID: 'IM' });
const openline = im('90', 'OPENLINE', 'imol|livechat|1|123|45');
const imol = im('91', 'IMOL', 'imol|telegrambot|2|777|8');
const disguised = im('92', 'OTHER', 'IMOL|whatsapp|3|55|1'); // an imol| value under a plain VALUE_TYPE
const skype = im('93', 'SKYPE', 'bob.skype');
const links: PortalMultifield[] = [
  { ID: '95', VALUE_TYPE: 'USER', VALUE: '17', TYPE_ID: 'LINK' },
  { ID: '96', VALUE_TYPE: 'USER', VALUE: '18', TYPE_ID: 'LINK' },
];

const lead = (): LeadRecord => ({ ID: '7', TITLE: 'Lead', IM: [openline, imol, disguised, skype], LINK: links });
const row = (fields: ValidRow['fields'], clears: string[] = []): ValidRow => ({ line: 2, id: 7, fields, clears, warnings: [], raw: '' });

/** Every entry ID the multifield arrays of a plan touch. */
function touched(fields: Record<string, unknown> | null): string[] {
  if (!fields) return [];
  return Object.values(fields)
    .filter(Array.isArray)
    .flat()
    .map((v) => (v as { ID?: string }).ID)
    .filter((id): id is string => id !== undefined);
}

describe('Open Channel bindings are never touched', () => {
  it('replace mode keeps every OPENLINE/IMOL/imol| entry; only the ordinary IM entry goes', () => {
    const plan = planUpdate(lead(), row({ IM: [{ VALUE: '@bob', VALUE_TYPE: 'TELEGRAM' }] }), 'replace');
    expect(plan.fields).toEqual({
      IM: [
        { VALUE: '@bob', VALUE_TYPE: 'TELEGRAM' },
        { ID: '93', VALUE: '', DELETE: 'Y' },
      ],
    });
    expect(touched(plan.fields)).toEqual(['93']);
  });
  it('the clear marker on IM deletes ordinary entries only', () => {
    const plan = planUpdate(lead(), row({}, ['IM']), 'merge');
    expect(plan.fields).toEqual({ IM: [{ ID: '93', VALUE: '', DELETE: 'Y' }] });
    expect(planUpdate(lead(), row({}, ['IM']), 'replace').fields).toEqual({ IM: [{ ID: '93', VALUE: '', DELETE: 'Y' }] });
  });
  it('a clear of IM:OPENLINE or IM:IMOL, or of LINK, deletes nothing', () => {
    for (const mode of ['merge', 'replace'] as const) {
      expect(planUpdate(lead(), row({}, ['IM:OPENLINE', 'IM:IMOL', 'LINK', 'LINK:USER']), mode).fields).toBeNull();
    }
  });
  it('a binding does not count as "the row value is already there" in replace mode: the row value is added', () => {
    const ops = planMultifield('IM', [openline], [{ VALUE: 'imol|livechat|1|123|45', VALUE_TYPE: 'OTHER' }], [], 'replace');
    expect(ops).toEqual([{ kind: 'add', VALUE: 'imol|livechat|1|123|45', VALUE_TYPE: 'OTHER' }]);
  });
  it('a binding under an out-of-scope VALUE_TYPE is never moved to the row VALUE_TYPE', () => {
    const ops = planMultifield('IM', [disguised], [{ VALUE: 'IMOL|whatsapp|3|55|1', VALUE_TYPE: 'TELEGRAM' }], [], 'replace');
    expect(ops.every((o) => o.kind === 'add')).toBe(true);
  });
  it('LINK entries are out of scope for a replace with LINK values too', () => {
    const ops = planMultifield('LINK', links, [{ VALUE: '99', VALUE_TYPE: 'USER' }], ['*'], 'replace');
    expect(ops).toEqual([{ kind: 'add', VALUE: '99', VALUE_TYPE: 'USER' }]);
  });
});
