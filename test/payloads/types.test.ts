import { describe, expect, it } from 'vitest';
import { checker, invalid, valid } from '../support/payload.ts';

/** One column under test next to ID; returns the sent value or the invalid message. */
function one(column: string) {
  const check = checker(['ID', column]);
  return {
    ok: (cell: string) => valid(check([' 5 ', cell], 9)).fields,
    bad: (cell: string) => {
      const o = invalid(check(['5', cell], 9));
      expect(o.errorCode).toBe('INVALID_VALUE');
      expect(o.id).toBe('5');
      return o.message;
    },
  };
}

describe('id-typed fields (user, crm_company, crm_contact)', () => {
  it('take positive integers as numbers', () => {
    expect(one('ASSIGNED_BY_ID').ok('17')).toEqual({ ASSIGNED_BY_ID: 17 });
    expect(one('COMPANY_ID').ok('2147483647')).toEqual({ COMPANY_ID: 2147483647 });
    expect(one('CONTACT_ID').ok('3')).toEqual({ CONTACT_ID: 3 });
  });
  it('refuse zero, negatives, decimals, text', () => {
    expect(one('ASSIGNED_BY_ID').bad('0')).toBe('line 9, ASSIGNED_BY_ID: "0" is not a user ID: IDs are positive whole numbers');
    expect(one('COMPANY_ID').bad('1.5')).toBe('line 9, COMPANY_ID: "1.5" is not a company ID: IDs are whole numbers');
    expect(one('CONTACT_ID').bad('abc')).toBe('line 9, CONTACT_ID: "abc" is not a contact ID: not a number');
    expect(one('CONTACT_ID').bad('2147483648')).toContain('too large');
  });
  it('CONTACT_IDS takes several ids in one cell', () => {
    expect(one('CONTACT_IDS').ok('1|2|3')).toEqual({ CONTACT_IDS: [1, 2, 3] });
    expect(one('CONTACT_IDS').ok('4, 5; 6')).toEqual({ CONTACT_IDS: [4, 5, 6] });
    expect(one('CONTACT_IDS').ok('7')).toEqual({ CONTACT_IDS: [7] });
    expect(one('CONTACT_IDS').bad('1|x')).toBe('line 9, CONTACT_IDS: "x" is not a contact ID: not a number');
  });
});

describe('string fields', () => {
  it('are trimmed and passed through, formulas included', () => {
    expect(one('TITLE').ok('  Acme  ')).toEqual({ TITLE: 'Acme' });
    expect(one('COMMENTS').ok('=HYPERLINK("http://x","y")')).toEqual({ COMMENTS: '=HYPERLINK("http://x","y")' });
    expect(one('COMMENTS').ok('two\nlines\tand a tab')).toEqual({ COMMENTS: 'two\nlines\tand a tab' });
    expect(one('UF_CRM_NOTE').ok('anything 1,2;3')).toEqual({ UF_CRM_NOTE: 'anything 1,2;3' });
  });
});

describe('char fields (OPENED, IS_MANUAL_OPPORTUNITY)', () => {
  it('normalise y/n, yes/no, true/false, 1/0 to Y/N', () => {
    const c = one('OPENED');
    for (const v of ['Y', 'y', 'yes', 'YES', 'true', 'True', '1']) expect(c.ok(v)).toEqual({ OPENED: 'Y' });
    for (const v of ['N', 'n', 'no', 'No', 'false', 'FALSE', '0']) expect(c.ok(v)).toEqual({ OPENED: 'N' });
    expect(one('IS_MANUAL_OPPORTUNITY').ok('yes')).toEqual({ IS_MANUAL_OPPORTUNITY: 'Y' });
  });
  it('refuse anything else', () => {
    expect(one('OPENED').bad('maybe')).toBe('line 9, OPENED: "maybe" is not Y or N (also accepted: yes/no, true/false, 1/0)');
    expect(one('OPENED').bad('2')).toContain('is not Y or N');
  });
});

describe('double (OPPORTUNITY)', () => {
  it('accepts dot, decimal comma and space/nbsp thousands, normalised to a number', () => {
    const c = one('OPPORTUNITY');
    expect(c.ok('12500')).toEqual({ OPPORTUNITY: 12500 });
    expect(c.ok('1234.56')).toEqual({ OPPORTUNITY: 1234.56 });
    expect(c.ok('1234,56')).toEqual({ OPPORTUNITY: 1234.56 });
    expect(c.ok('1 234,56')).toEqual({ OPPORTUNITY: 1234.56 });
    expect(c.ok('1\u00A0234\u00A0567,5')).toEqual({ OPPORTUNITY: 1234567.5 });
    expect(c.ok('1\u202F234,00')).toEqual({ OPPORTUNITY: 1234 });
    expect(c.ok('1,234,567.25')).toEqual({ OPPORTUNITY: 1234567.25 });
    expect(c.ok('1.234,5')).toEqual({ OPPORTUNITY: 1234.5 });
    expect(c.ok('-10.5')).toEqual({ OPPORTUNITY: -10.5 });
    expect(c.ok('0')).toEqual({ OPPORTUNITY: 0 });
  });
  it('refuses text and broken groups', () => {
    const c = one('OPPORTUNITY');
    expect(c.bad('abc')).toBe('line 9, OPPORTUNITY: "abc" is not a number');
    expect(c.bad('12 34,5')).toContain('is not a number');
    expect(c.bad('1,2,3')).toContain('is not a number');
    expect(c.bad('1.2.3')).toContain('is not a number');
  });
});

describe('date (BIRTHDATE)', () => {
  it('accepts ISO and DD.MM.YYYY, normalised to ISO', () => {
    const c = one('BIRTHDATE');
    expect(c.ok('1990-03-05')).toEqual({ BIRTHDATE: '1990-03-05' });
    expect(c.ok('05.03.1990')).toEqual({ BIRTHDATE: '1990-03-05' });
    expect(c.ok('5.3.1990')).toEqual({ BIRTHDATE: '1990-03-05' });
    expect(c.ok('29.02.2024')).toEqual({ BIRTHDATE: '2024-02-29' });
  });
  it('refuses impossible dates and other formats', () => {
    const c = one('BIRTHDATE');
    expect(c.bad('2023-02-30')).toBe('line 9, BIRTHDATE: "2023-02-30" is not a real date');
    expect(c.bad('29.02.2023')).toContain('is not a real date');
    expect(c.bad('2023-13-01')).toContain('is not a real date');
    expect(c.bad('31.04.2020')).toContain('is not a real date');
    expect(c.bad('03/05/1990')).toContain('line 9, BIRTHDATE: "03/05/1990" is ambiguous');
    expect(c.bad('1990.03.05')).toBe('line 9, BIRTHDATE: "1990.03.05" is not a date (YYYY-MM-DD or DD.MM.YYYY)');
    expect(c.bad('yesterday')).toContain('is not a date');
  });
});

describe('crm_status (STATUS_ID, SOURCE_ID, HONORIFIC) without portal codes', () => {
  it('passes any code', () => {
    expect(one('STATUS_ID').ok('IN_PROCESS')).toEqual({ STATUS_ID: 'IN_PROCESS' });
    expect(one('SOURCE_ID').ok('UC_1A2B3C')).toEqual({ SOURCE_ID: 'UC_1A2B3C' });
    expect(one('HONORIFIC').ok('HNR_EN_1')).toEqual({ HONORIFIC: 'HNR_EN_1' });
  });
  it('refuses names with spaces (the portal wants codes)', () => {
    expect(one('STATUS_ID').bad('In progress')).toContain('line 9, STATUS_ID: "In progress" is not a STATUS_ID code');
  });
});

describe('crm_currency (CURRENCY_ID)', () => {
  it('takes three letters, upper-cased', () => {
    expect(one('CURRENCY_ID').ok('rub')).toEqual({ CURRENCY_ID: 'RUB' });
    expect(one('CURRENCY_ID').ok('USD')).toEqual({ CURRENCY_ID: 'USD' });
  });
  it('refuses anything else', () => {
    expect(one('CURRENCY_ID').bad('RUBL')).toBe('line 9, CURRENCY_ID: "RUBL" is not a currency code (three letters, e.g. RUB, USD, EUR)');
    expect(one('CURRENCY_ID').bad('$')).toContain('is not a currency code');
  });
});
