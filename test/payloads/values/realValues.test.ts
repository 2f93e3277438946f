import { describe, expect, it } from 'vitest';
import { standardCatalogue } from '../../../lambda/payloads/fields.ts';
import type { Catalogue } from '../../../lambda/types.ts';
import { checker, invalid, valid } from '../../support/payload.ts';

/** Values as real files hold them (issue #18: items 1, 3, 11, 14, 15, 16), through compileRows as the engine builds it. */

describe('#18.1 thousands or decimals: a lone mark before exactly three digits is ambiguous', () => {
  const check = checker(['ID', 'OPPORTUNITY', 'CURRENCY_ID']);
  it.each([
    ['12,500', '12500 or 12.5?', 'write 12500 or 12,500.00 for thousands, 12,5 for decimals', ','],
    ['1,234', '1234 or 1.234?', 'write 1234 or 1,234.00 for thousands, 1,2340 for decimals', ','],
    ['1.234', '1234 or 1.234?', 'write 1234 or 1.234,00 for thousands, 1.2340 for decimals', '.'],
  ])('%s is refused, the message saying how to make it clear', (cell, readings, write, mark) => {
    const o = invalid(check(['5', cell, 'USD'], 3));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe(
      `line 3, OPPORTUNITY: "${cell}" is ambiguous (${readings}): ${write}, or run with --decimal-mark ${mark} if ` +
        `"${mark}" is this file's decimal mark (--decimal-mark ${mark === ',' ? '.' : ','} if it separates thousands)`,
    );
  });
  it.each([
    ['12,50', 12.5],
    ['1 234,50', 1234.5],
    ['1,234.50', 1234.5],
    ['1.234,50', 1234.5],
    ['12500', 12500],
    ['1,234,567', 1234567],
    ['0,500', 0.5],
    ['1234,50', 1234.5 /* four digits cannot lead a thousands group */],
  ])('%s says which mark it uses: %s', (cell, n) => {
    expect(valid(check(['5', cell, ''])).fields.OPPORTUNITY).toBe(n);
  });
  it('--decimal-mark settles it: "," reads 12,500 as 12.5 and 1.234 as 1234; "." the other way', () => {
    const comma = checker(['ID', 'OPPORTUNITY'], { decimalMark: ',' });
    expect(valid(comma(['5', '12,500'])).fields.OPPORTUNITY).toBe(12.5);
    expect(valid(comma(['5', '1.234'])).fields.OPPORTUNITY).toBe(1234);
    const dot = checker(['ID', 'OPPORTUNITY'], { decimalMark: '.' });
    expect(valid(dot(['5', '12,500'])).fields.OPPORTUNITY).toBe(12500);
    expect(valid(dot(['5', '1.234'])).fields.OPPORTUNITY).toBe(1.23);
    // An amount that says its mark is read as it says, whatever the setting.
    expect(valid(dot(['5', '1.234,50'])).fields.OPPORTUNITY).toBe(1234.5);
  });
});

describe('#18.3 more than two decimals: rounded as the portal stores OPPORTUNITY, and reported', () => {
  it('10.005 under --decimal-mark . is sent as 10.01 (half away from zero, on the digits), with a warning', () => {
    const check = checker(['ID', 'OPPORTUNITY'], { decimalMark: '.' });
    const row = valid(check(['5', '10.005'], 6));
    expect(row.fields.OPPORTUNITY).toBe(10.01);
    expect(row.warnings).toEqual(['line 6, OPPORTUNITY: "10.005" is sent as 10.01: the portal keeps 2 decimals']);
    // 1.005 is 1.00499… as a binary double: toFixed would give 1.00, the portal 1.01.
    expect(valid(check(['5', '1.005'])).fields.OPPORTUNITY).toBe(1.01);
  });
});

describe('#18.11 phone and e-mail cells joined with ", " (as the portal export writes them) split like |', () => {
  const check = checker(['ID', 'PHONE_WORK', 'EMAIL_WORK', 'WEB_WORK']);
  it('each value is sent on its own; a web address keeps its commas', () => {
    const row = valid(check(['1', '+7 912 345-67-89, +7 (495) 123-45-67', 'a@x.ru, b@y.ru', 'https://x.ru/a,b']));
    expect(row.fields).toEqual({
      PHONE: [
        { VALUE: '+7 912 345-67-89', VALUE_TYPE: 'WORK' },
        { VALUE: '+7 (495) 123-45-67', VALUE_TYPE: 'WORK' },
      ],
      EMAIL: [
        { VALUE: 'a@x.ru', VALUE_TYPE: 'WORK' },
        { VALUE: 'b@y.ru', VALUE_TYPE: 'WORK' },
      ],
      WEB: [{ VALUE: 'https://x.ru/a,b', VALUE_TYPE: 'WORK' }],
    });
  });
  it('a comma before an extension stays with its number', () => {
    const row = valid(check(['1', '+7 912 345-67-89, доб. 12', '', '']));
    expect(row.fields.PHONE).toEqual([{ VALUE: '+7 912 345-67-89, доб. 12', VALUE_TYPE: 'WORK' }]);
  });
  it('a bad piece names itself', () => {
    expect(invalid(check(['1', '', 'a@x.ru, bob@', ''], 4)).message).toBe('line 4, EMAIL_WORK: "bob@" is not an e-mail address');
  });
});

describe('#18.14 phones with extensions and non-breaking punctuation are phones, sent as written', () => {
  const check = checker(['ID', 'PHONE_WORK']);
  it.each([
    '+7 912 345-67-89 доб. 123',
    '+7 912 345-67-89 доб 123',
    '+1 (212) 555-0100 ext. 123',
    '(212) 555-0100 x3651',
    '+7 495 123-45-67 #123',
    '8\u00A0912\u00A0345\u201167\u201189',
    '+7\u202F912\u202F345-67-89',
  ])('%s', (cell) => {
    expect(valid(check(['1', cell])).fields.PHONE).toEqual([{ VALUE: cell, VALUE_TYPE: 'WORK' }]);
  });
  it('text that is no phone is still refused, the message naming the extension forms', () => {
    expect(invalid(check(['1', 'call me'], 2)).message).toBe(
      'line 2, PHONE_WORK: "call me" is not a phone number (digits with an optional leading +, spaces, dashes, parentheses, dots, and an extension such as "доб. 123" or "ext. 123")',
    );
  });
});

describe('#18.15 dates as exports write them', () => {
  const check = checker(['ID', 'BIRTHDATE']);
  const date = (cell: string, opts = {}) => valid(checker(['ID', 'BIRTHDATE'], opts)(['1', cell])).fields.BIRTHDATE;
  it('an ISO datetime or "05.03.1990 0:00:00" at midnight is the date', () => {
    expect(date('1990-03-05T00:00:00+03:00')).toBe('1990-03-05');
    expect(date('05.03.1990 0:00:00')).toBe('1990-03-05');
    expect(date('05.03.1990 00:00')).toBe('1990-03-05');
    expect(date('3/5/1990 12:00 AM', { dateOrder: 'MDY' })).toBe('1990-03-05');
  });
  it('another time of day in a date field is refused', () => {
    expect(invalid(check(['1', '05.03.1990 14:30'], 5)).message).toBe(
      'line 5, BIRTHDATE: "05.03.1990 14:30" has a time of day (14:30) but the field holds a date only: write the date alone (1990-03-05)',
    );
  });
  it('3/5/1990 is ambiguous: refused with a hint, or read by --date-order', () => {
    const o = invalid(check(['1', '3/5/1990'], 7));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe(
      'line 7, BIRTHDATE: "3/5/1990" is ambiguous (3 May or March 5?): write 1990-05-03 or 1990-03-05, or run with --date-order DMY (day first) or --date-order MDY (month first)',
    );
    expect(date('3/5/1990', { dateOrder: 'DMY' })).toBe('1990-05-03');
    expect(date('3/5/1990', { dateOrder: 'MDY' })).toBe('1990-03-05');
  });
  it('a slash date with one possible reading needs no flag', () => {
    expect(date('25/3/1990')).toBe('1990-03-25');
    expect(date('3/25/1990')).toBe('1990-03-25');
    expect(date('5/5/1990')).toBe('1990-05-05');
    expect(invalid(checker(['ID', 'BIRTHDATE'], { dateOrder: 'DMY' })(['1', '3/25/1990'])).message).toContain('is not a real date');
  });
  it('custom datetime fields take slash dates and AM/PM', () => {
    const cat: Catalogue = standardCatalogue();
    cat.fields.set('UF_CRM_MET', { code: 'UF_CRM_MET', type: 'datetime' });
    const c = checker(['ID', 'UF_CRM_MET'], { dateOrder: 'MDY' }, cat);
    expect(valid(c(['1', '3/5/1990 2:30 PM'])).fields.UF_CRM_MET).toBe('1990-03-05T14:30:00');
    expect(valid(c(['1', '1990-03-05T00:00:00+03:00'])).fields.UF_CRM_MET).toBe('1990-03-05T00:00:00+03:00');
  });
});

describe('#18.16 amounts with a currency sign or word', () => {
  const check = checker(['ID', 'OPPORTUNITY', 'CURRENCY_ID']);
  it.each([
    ['1 234,50 ₽', 'RUB'],
    ['1 234,50 руб.', 'RUB'],
    ['$1,234.50', 'USD'],
    ['€ 12.50', 'EUR'],
    ['12.50 USD', 'USD'],
    ['12.50 EUR', 'EUR'],
  ])('%s with CURRENCY_ID %s: the number, no warning', (cell, currency) => {
    const row = valid(check(['5', cell, currency]));
    expect(row.fields).toEqual({ OPPORTUNITY: cell.includes('1 234') || cell.includes('1,234') ? 1234.5 : 12.5, CURRENCY_ID: currency });
    expect(row.warnings).toEqual([]);
  });
  it('a sign that contradicts the row CURRENCY_ID makes the row invalid, naming both', () => {
    const o = invalid(check(['5', '€ 12.50', 'RUB'], 8));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe('line 8, OPPORTUNITY: "€ 12.50" is in EUR (€) but CURRENCY_ID is RUB');
    expect(invalid(check(['5', '1 234,50 ₽', 'usd'], 8)).message).toBe(
      'line 8, OPPORTUNITY: "1 234,50 ₽" is in RUB (₽) but CURRENCY_ID is USD',
    );
  });
  it('with no CURRENCY_ID the sign is taken off and reported; no CURRENCY_ID is invented', () => {
    const c = checker(['ID', 'OPPORTUNITY']);
    const row = valid(c(['5', '$1,234.50'], 9));
    expect(row.fields).toEqual({ OPPORTUNITY: 1234.5 });
    expect(row.warnings).toEqual([
      'line 9, OPPORTUNITY: "$1,234.50" is sent without its currency sign "$" (USD, CAD, AUD, NZD, SGD, HKD, MXN…); the row has no ' +
        "CURRENCY_ID, so the lead's currency stays as it is (add a CURRENCY_ID column to set it)",
    ]);
  });
  it('two different signs in one cell are refused', () => {
    expect(invalid(check(['5', '€12 USD', ''], 2)).message).toBe('line 2, OPPORTUNITY: "€12 USD" names two currencies (€ and USD)');
  });
  it('an ambiguous amount is ambiguous with its sign too', () => {
    expect(invalid(check(['5', '$12,500', 'USD'], 2)).message).toMatch(/^line 2, OPPORTUNITY: "\$12,500" is ambiguous/);
  });
});
