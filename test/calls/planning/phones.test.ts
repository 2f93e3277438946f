import { describe, expect, it } from 'vitest';
import { planMultifield } from '../../../lambda/calls/planning/multifield.ts';
import { phoneKey } from '../../../lambda/calls/planning/phoneKey.ts';
import type { MultifieldValue, PortalMultifield } from '../../../lambda/types.ts';

const e = (ID: string, VALUE: string, VALUE_TYPE = 'WORK'): PortalMultifield => ({ ID, VALUE_TYPE, VALUE, TYPE_ID: 'PHONE' });
const v = (VALUE: string, VALUE_TYPE = 'WORK'): MultifieldValue => ({ VALUE, VALUE_TYPE });

describe('#18.14 phones compare in E.164 with a default country', () => {
  it('8 (912) 345-67-89, +7 912 345-67-89 and non-breaking spellings are one phone', () => {
    const key = phoneKey('+7 912 345-67-89');
    for (const t of ['8 (912) 345-67-89', '79123456789', '8\u00A0912\u00A0345\u201167\u201189', '+7\u202F912\u202F345 67 89'])
      expect(phoneKey(t)).toBe(key);
    expect(phoneKey('8 (912) 345-67-90')).not.toBe(key);
  });
  it('an extension counts, in any spelling, and is never lost', () => {
    const ext = phoneKey('+7 912 345-67-89 доб. 123');
    expect(phoneKey('8 912 345 67 89 ext. 123')).toBe(ext);
    expect(phoneKey('+79123456789 x123')).toBe(ext);
    expect(phoneKey('+7 912 345-67-89 #123')).toBe(ext);
    expect(phoneKey('+7 912 345-67-89 доб. 124')).not.toBe(ext);
    expect(phoneKey('+7 912 345-67-89')).not.toBe(ext);
  });
  it('the default country reads national numbers: RU when none is given', () => {
    expect(phoneKey('(212) 555-0100', 'US')).toBe(phoneKey('+1 212 555 0100'));
    expect(phoneKey('8 (912) 345-67-89')).toBe(phoneKey('8 (912) 345-67-89', 'RU'));
    expect(phoneKey('8 (912) 345-67-89', 'US')).not.toBe(phoneKey('+7 912 345-67-89'));
  });

  it('merge: the number already on the lead, written another way, is not sent again', () => {
    expect(planMultifield('PHONE', [e('1', '+7 912 345-67-89')], [v('8 (912) 345-67-89', 'MOBILE')], [], 'merge')).toEqual([]);
    expect(planMultifield('PHONE', [e('1', '+7 912 345-67-89 доб. 123')], [v('8 912 345 67 89 ext. 123')], [], 'merge')).toEqual([]);
  });
  it('merge: the same number with an extension the lead lacks is added as written', () => {
    expect(planMultifield('PHONE', [e('1', '+7 912 345-67-89')], [v('+7 912 345-67-89 доб. 5')], [], 'merge')).toEqual([
      { kind: 'add', VALUE: '+7 912 345-67-89 доб. 5', VALUE_TYPE: 'WORK' },
    ]);
  });
  it("the country is a parameter: a US file's (212) 555-0100 is the lead's +1 212 555 0100", () => {
    const cur = [e('1', '+1 212 555 0100')];
    expect(planMultifield('PHONE', cur, [v('(212) 555-0100')], [], 'merge', 'US')).toEqual([]);
    expect(planMultifield('PHONE', cur, [v('(212) 555-0100')], [], 'merge', 'RU')).toHaveLength(1);
  });
  it('replace: a matching number is kept as the lead has it (no rewrite for formatting)', () => {
    const cur = [e('1', '+7 912 345-67-89'), e('2', '+7 495 000-00-00')];
    expect(planMultifield('PHONE', cur, [v('8 (912) 345-67-89')], [], 'replace')).toEqual([
      { kind: 'delete', ID: '2', VALUE_TYPE: 'WORK' },
    ]);
  });
});
