import { describe, expect, it } from 'vitest';
import { normaliseMulti, normaliseScalar, sameValue } from '../../../lambda/calls/planning/normalise.ts';

const spec = (type: string, extra: { code?: string; multiple?: boolean } = {}) => ({
  code: extra.code ?? 'X',
  type,
  multiple: extra.multiple,
});

describe('scalar normalisation: portal value vs row value', () => {
  // [type, portal prints, row sends, equal?]
  const table: [string, unknown, unknown, boolean][] = [
    ['double', '12500.00', 12500, true],
    ['double', '0.00', 0, true],
    ['double', '0.50', '0.5', true],
    ['double', '12500.00', 12500.01, false],
    ['double', '', 0, false], // empty is not zero
    ['double', null, '', true],
    ['integer', '42', 42, true],
    ['user', '1', '01', true],
    ['crm_company', '0', '', true], // "0" = no company
    ['crm_company', '0', 5, false],
    ['crm_contact', null, '', true],
    ['date', '1990-05-17T03:00:00+03:00', '1990-05-17', true],
    ['date', '1990-05-17T00:00:00+02:00', '1990-05-18', false],
    ['date', '', '', true],
    ['date', '', '1990-05-17', false],
    ['char', 'Y', 'Y', true],
    ['char', 'N', 'y', false],
    ['char', 'y', 'Y', true],
    ['boolean', true, '1', true],
    ['boolean', false, 0, true],
    ['boolean', '0', 'Y', false],
    ['crm_currency', 'USD', 'usd', true],
    ['crm_currency', 'EUR', 'USD', false],
    ['enumeration', '79', 79, true],
    ['enumeration', '79', '80', false],
    ['crm_status', 'NEW', 'NEW', true],
    ['crm_status', 'NEW', 'new', false], // codes are case-sensitive on the portal
    ['string', null, '', true],
    ['string', 'Acme', 'Acme', true],
    ['string', 'Acme', 'Acme ', false],
    ['string', '01234', '1234', false], // postal codes are text
    ['money', '100.00|usd', '100|USD', true],
    ['money', '100|USD', '100|EUR', false],
  ];
  it.each(table)('%s: portal %j vs row %j → equal %s', (type, portal, row, equal) => {
    expect(sameValue(spec(type), portal, row)).toBe(equal);
  });

  it('datetimes with offsets compare as instants', () => {
    expect(sameValue(spec('datetime'), '2024-05-23T18:18:25+02:00', '2024-05-23T16:18:25Z')).toBe(true);
    expect(sameValue(spec('datetime'), '2024-05-23T18:18:25+02:00', '2024-05-23T18:18:25+03:00')).toBe(false);
  });
  it('a datetime without offset compares wall clock with the portal (server zone)', () => {
    expect(sameValue(spec('datetime'), '2024-05-23T18:18:25+02:00', '2024-05-23T18:18:25')).toBe(true);
    expect(sameValue(spec('datetime'), '2024-05-23T00:00:00+03:00', '2024-05-23')).toBe(true);
    expect(sameValue(spec('datetime'), '2024-05-23T18:18:25+02:00', '2024-05-23T18:18:26')).toBe(false);
    expect(sameValue(spec('datetime'), '', '2024-05-23')).toBe(false);
  });

  it('CONTACT_IDS compares in order (the first is the primary contact), as strings or numbers', () => {
    const s = spec('crm_contact', { code: 'CONTACT_IDS', multiple: true });
    expect(sameValue(s, ['3', '5'], [3, 5])).toBe(true);
    expect(sameValue(s, ['5', '3'], [3, 5])).toBe(false);
    expect(sameValue(s, [], [])).toBe(true);
    expect(sameValue(s, ['3'], [3, 5])).toBe(false);
  });
  it('multiple custom fields compare as sets', () => {
    const s = spec('enumeration', { code: 'UF_CRM_TAGS', multiple: true });
    expect(sameValue(s, ['81', '79'], ['79', '81'])).toBe(true);
    expect(sameValue(s, ['79'], ['79', '81'])).toBe(false);
    expect(sameValue(s, false, [])).toBe(true); // PHP prints an empty user field as false
    expect(sameValue(spec('string'), false, '')).toBe(true);
  });
  it('unparsable numbers fall back to the exact text (a doubt means "different")', () => {
    expect(normaliseScalar('double', 'abc')).toBe('abc');
    expect(sameValue(spec('double'), 'abc', 'ABC')).toBe(false);
  });
});

describe('multifield value normalisation', () => {
  it('phones: one E.164 number however written (a national 8… is the +7… number), a leading + not significant', () => {
    expect(normaliseMulti('PHONE', '+1 (555) 010-0100')).toBe(normaliseMulti('PHONE', '15550100100'));
    expect(normaliseMulti('PHONE', '+7 999 123-45-67')).toBe(normaliseMulti('PHONE', '8 999 123-45-67'));
    expect(normaliseMulti('PHONE', '+7 999 123-45-67')).not.toBe(normaliseMulti('PHONE', '+7 999 123-45-68'));
  });
  it('e-mail: case-insensitive and trimmed', () => {
    expect(normaliseMulti('EMAIL', ' Bob@Example.COM ')).toBe(normaliseMulti('EMAIL', 'bob@example.com'));
    expect(normaliseMulti('EMAIL', 'bob@example.com')).not.toBe(normaliseMulti('EMAIL', 'rob@example.com'));
  });
  it('web: scheme, www. and trailing slash ignored, path kept', () => {
    expect(normaliseMulti('WEB', 'https://www.Example.com/')).toBe(normaliseMulti('WEB', 'example.com'));
    expect(normaliseMulti('WEB', 'http://example.com/a')).toBe(normaliseMulti('WEB', 'example.com/a/'));
    expect(normaliseMulti('WEB', 'example.com/a')).not.toBe(normaliseMulti('WEB', 'example.com/b'));
  });
  it('im: case-insensitive', () => {
    expect(normaliseMulti('IM', 'JohnDoe')).toBe(normaliseMulti('IM', 'johndoe'));
  });
});
