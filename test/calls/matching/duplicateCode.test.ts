import { describe, expect, it } from 'vitest';
import {
  bitrixNormalizePhone,
  duplicateCode,
  duplicateEmailCode,
  duplicatePhoneCode,
} from '../../../lambda/calls/matching/duplicateCode.ts';

// Expected values worked out by hand from the PHP (main/tools.php NormalizePhone($v, 1) and
// DuplicateCommunicationCriterion::normalizePhone / prepareCodes), step by step in the comments.
describe('the portal duplicate-index codes', () => {
  it.each([
    ['+7 (912) 345-67-89', '79123456789'], // digits only, starts with 7
    ['8 (912) 345-67-89', '79123456789'], // 11 digits, leading 8 → 7
    ['8-912-345-67-89', '79123456789'],
    ['9123456789', '9123456789'], // 10 digits starting with 9: kept, no country is added
    ['+49 30 1234567', '49301234567'],
    ['0049 30 1234567', '49301234567'], // 00 dropped
    ['011 1 212 555 0100', '12125550100'], // 011 dropped
    ['030 1234567', '301234567'], // 10 characters, leading 0 dropped
    ['8 10 49 30 1234567', '81049301234567'], // 81…: kept as is (8 10 is the old Russian international prefix)
    ['+8 10 49 30 1234567', '81049301234567'], // +8 → 008… → 00 dropped → 81…
    ['+1 555 0100', '15550100'], // under 10 characters: digits only
    ['79123456789;123', '79123456789'], // `;` extension dropped
    ['79123456789#123', '79123456789'], // `#` extension dropped
    ['8 912 345-67-89 доб. 123', '79123456789123'], // a worded extension joins the number
    ['12*34', '12*34'],
    ['abc', ''],
  ])('PHONE %j → %j', (value, code) => {
    expect(duplicatePhoneCode(value)).toBe(code);
    expect(duplicateCode('PHONE', value)).toBe(code);
  });

  it('NormalizePhone leaves the extension separators for the criterion to strip', () => {
    expect(bitrixNormalizePhone('8 (912) 345-67-89; 123')).toBe('79123456789;123');
  });

  it('the code is not idempotent for leading zeros, so the cell is what is sent', () => {
    expect(duplicatePhoneCode('000123456789')).toBe('0123456789');
    expect(duplicatePhoneCode('0123456789')).toBe('123456789');
  });

  it('EMAIL: PHP trim and lower case, nothing else', () => {
    expect(duplicateEmailCode('  Ann.Lee@Example.COM\t')).toBe('ann.lee@example.com');
    expect(duplicateEmailCode('\u00a0a@x.com')).toBe('\u00a0a@x.com'); // PHP trim() keeps a no-break space
    expect(duplicateCode('EMAIL', 'B@X.com')).toBe('b@x.com');
  });
});
