import { describe, expect, it } from 'vitest';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import { checker, invalid, valid } from '../support/payload.ts';

// CCrmLead::CheckFields refuses the WHOLE update for these: refused here first, as an invalid row naming the column.

describe('TITLE (crm.lead.fields: isRequired)', () => {
  const check = checker(['ID', 'TITLE', 'NAME']);
  it('the clear marker on TITLE is invalid', () => {
    const o = invalid(check(['5', '#N/A', 'Bob'], 3));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe('line 3, TITLE: the title cannot be emptied (the portal requires it and would refuse the whole update)');
  });
  it('"0" is empty to the portal (PHP empty()), so it is invalid too', () => {
    expect(invalid(check(['5', '0', ''], 4)).message).toBe(
      'line 4, TITLE: "0" counts as empty to the portal, which requires a title and would refuse the whole update',
    );
    expect(invalid(check(['5', ' 0 ', ''], 4)).errorCode).toBe('INVALID_VALUE');
  });
  it('an empty cell leaves the title unchanged, and other titles pass', () => {
    expect(valid(check(['5', '', 'Bob'])).fields).toEqual({ NAME: 'Bob' });
    expect(valid(check(['5', '00', ''])).fields).toEqual({ TITLE: '00' });
    expect(valid(check(['5', '0.0', ''])).fields).toEqual({ TITLE: '0.0' });
    expect(valid(check(['5', 'Acme', ''])).fields).toEqual({ TITLE: 'Acme' });
  });
  it('the header needs no TITLE column (an update sends only what the file gives)', () => {
    expect(resolveHeader(['ID', 'NAME'], { mapping: {}, catalogue: standardCatalogue() }).map((c) => c.code)).toEqual(['ID', 'NAME']);
  });
});

describe('OPPORTUNITY is sent as a plain decimal (^-?\\d+(\\.\\d+)?$) or refused', () => {
  const check = checker(['ID', 'OPPORTUNITY']);
  const sent = (cell: string) => {
    const v = valid(check(['5', cell])).fields.OPPORTUNITY;
    // What travels: the encoder prints numbers with String().
    expect(String(v), cell).toMatch(/^-?\d+(\.\d+)?$/);
    return v;
  };
  it.each([
    ['1e5', 100000],
    ['+5', 5],
    ['.5', 0.5],
    ['5.', 5],
    [' 5 ', 5],
    ['1 000,50', 1000.5],
    ['-0', 0],
    ['12500.00', 12500],
  ])('%s is sent as %s', (cell, n) => {
    expect(sent(cell)).toBe(n);
  });
  it.each(['1e21', '123456789012345678901234'])('%s is refused: String() would print an exponent', (cell) => {
    const o = invalid(check(['5', cell], 6));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toMatch(new RegExp(`^line 6, OPPORTUNITY: "${cell.replace('+', '\\+')}" cannot be sent as a plain decimal`));
  });
});

describe('OPPORTUNITY is rounded to the two decimals the portal keeps (DECIMAL(18,2)), half away from zero', () => {
  const check = checker(['ID', 'OPPORTUNITY']);
  it.each([
    ['1e-7', 0],
    ['0.0000001', 0],
    ['10.0051', 10.01],
    ['1,0049', 1],
    ['-2.6750', -2.68],
  ])('%s is sent as %s, with a warning naming the line and column', (cell, n) => {
    const row = valid(check(['5', cell], 4));
    expect(row.fields.OPPORTUNITY).toBe(n);
    expect(row.warnings).toEqual([`line 4, OPPORTUNITY: "${cell}" is sent as ${n}: the portal keeps 2 decimals`]);
  });
  it('two decimals or fewer: no warning', () => {
    expect(valid(check(['5', '12,50'])).warnings).toEqual([]);
  });
});

describe('e-mail addresses as the portal check_email() takes them', () => {
  const check = checker(['ID', 'EMAIL']);
  it.each([
    'bob@example.com',
    "o'brien+tag@mail.example.co.uk",
    'a.b-c_d@sub-domain.example.museum',
    'bob@xn--e1afmkfd.xn--p1ai',
    'bob@пример.рф',
    'Bob@Example.COM',
  ])('%s passes', (email) => {
    expect(valid(check(['5', email])).fields.EMAIL).toEqual([{ VALUE: email, VALUE_TYPE: 'WORK' }]);
  });
  it.each([
    ['bob@example.c', 'a one-letter top-level domain'],
    ['bob@example.abcdefghijklmnopqrstu', 'a top-level domain of 21 characters'],
    [`${'a'.repeat(300)}@${'b'.repeat(20)}.com`, 'over 320 characters'],
  ])('%s is refused (%s)', (email) => {
    const o = invalid(check(['5', email], 7));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toMatch(/^line 7, EMAIL: ".*" is not an e-mail address/);
  });
});

describe('multifield values over 250 characters', () => {
  const check = checker(['ID', 'EMAIL_HOME', 'WEB', 'IM_SKYPE', 'PHONE_MOBILE']);
  it('are invalid, naming the column', () => {
    const longMail = `${'a'.repeat(240)}@example.com`; // 252 characters, under check_email's 320
    const o = invalid(check(['5', longMail, '', '', ''], 8));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe(
      `line 8, EMAIL_HOME: the value is 252 characters; the portal takes at most 250 (it would refuse the whole update)`,
    );
    expect(invalid(check(['5', '', `https://example.com/${'x'.repeat(231)}`, '', ''])).message).toContain(
      'WEB: the value is 251 characters',
    );
    expect(invalid(check(['5', '', '', 'я'.repeat(251), ''])).message).toContain('IM_SKYPE: the value is 251 characters');
    expect(invalid(check(['5', '', '', '', `+7 ${' '.repeat(240)}912 345 67 89`])).message).toContain('PHONE_MOBILE: the value is');
  });
  it('250 characters pass; each value of a multi-value cell counts alone', () => {
    expect(valid(check(['5', '', '', 'я'.repeat(250), ''])).fields.IM).toEqual([{ VALUE: 'я'.repeat(250), VALUE_TYPE: 'SKYPE' }]);
    expect(valid(check(['5', '', '', `${'a'.repeat(200)} | ${'b'.repeat(200)}`, ''])).fields.IM).toHaveLength(2);
  });
});
