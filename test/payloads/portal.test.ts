import { describe, expect, it } from 'vitest';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import type { Catalogue, FieldSpec } from '../../lambda/types.ts';
import { checker, invalid, valid } from '../support/payload.ts';

/** A catalogue as the portal preflight fills it: status codes, enumeration items, UF types and labels. */
function portalCatalogue(): Catalogue {
  const cat = standardCatalogue();
  cat.fromPortal = true;
  const set = (spec: FieldSpec) => cat.fields.set(spec.code, { ...cat.fields.get(spec.code), ...spec });
  set({
    code: 'STATUS_ID',
    type: 'crm_status',
    statusType: 'STATUS',
    statusCodes: ['NEW', 'IN_PROCESS', 'PROCESSED', 'JUNK', 'CONVERTED', 'UC_X1Y2'],
  });
  set({ code: 'SOURCE_ID', type: 'crm_status', statusType: 'SOURCE', statusCodes: ['CALL', 'EMAIL', 'WEB'] });
  set({
    code: 'UF_CRM_TIER',
    type: 'enumeration',
    items: [
      { ID: '45', VALUE: 'Gold' },
      { ID: '46', VALUE: 'Silver' },
    ],
    labels: ['Tier'],
  });
  set({
    code: 'UF_CRM_TAGS',
    type: 'enumeration',
    multiple: true,
    items: [
      { ID: '1', VALUE: 'Hot' },
      { ID: '2', VALUE: 'Cold' },
      { ID: '3', VALUE: 'VIP' },
    ],
  });
  set({ code: 'UF_CRM_SCORE', type: 'double' });
  set({ code: 'UF_CRM_COUNT', type: 'integer' });
  set({ code: 'UF_CRM_AGREED', type: 'boolean' });
  set({ code: 'UF_CRM_DAY', type: 'date' });
  set({ code: 'UF_CRM_CALL_AT', type: 'datetime' });
  set({ code: 'UF_CRM_SITE', type: 'url' });
  set({ code: 'UF_CRM_NOTES', type: 'string', multiple: true, labels: ['Notes'] });
  set({ code: 'UF_CRM_BUDGET', type: 'money' });
  set({ code: 'UF_CRM_DAYS', type: 'date', multiple: true });
  return cat;
}

function one(column: string) {
  const check = checker(['ID', column], {}, portalCatalogue());
  return {
    ok: (cell: string) => valid(check(['5', cell], 9)).fields,
    bad: (cell: string) => {
      const o = invalid(check(['5', cell], 9));
      expect(o.errorCode).toBe('INVALID_VALUE');
      return o.message;
    },
  };
}

describe('crm_status with the portal codes', () => {
  it('accepts a listed code, in any case, sent in the portal spelling', () => {
    expect(one('STATUS_ID').ok('IN_PROCESS')).toEqual({ STATUS_ID: 'IN_PROCESS' });
    expect(one('STATUS_ID').ok('uc_x1y2')).toEqual({ STATUS_ID: 'UC_X1Y2' });
    expect(one('SOURCE_ID').ok('call')).toEqual({ SOURCE_ID: 'CALL' });
  });
  it('refuses other codes and names the allowed ones', () => {
    expect(one('STATUS_ID').bad('WON')).toBe(
      'line 9, STATUS_ID: "WON" is not a known STATUS_ID; allowed: NEW, IN_PROCESS, PROCESSED, JUNK, CONVERTED, UC_X1Y2',
    );
    expect(one('SOURCE_ID').bad('PARTNER')).toContain('allowed: CALL, EMAIL, WEB');
  });
  it('an empty portal list refuses every code and says so', () => {
    const cat = portalCatalogue();
    cat.fields.set('HONORIFIC', { code: 'HONORIFIC', type: 'crm_status', statusType: 'HONORIFIC', statusCodes: [] });
    const o = invalid(checker(['ID', 'HONORIFIC'], {}, cat)(['1', 'HNR_EN_1'], 3));
    expect(o.message).toBe('line 3, HONORIFIC: "HNR_EN_1" is not a known HONORIFIC; the portal lists no codes for it');
  });
  it('a long list is cut in the message', () => {
    const cat = portalCatalogue();
    const codes = Array.from({ length: 40 }, (_, i) => `UC_${i}`);
    cat.fields.set('STATUS_ID', { code: 'STATUS_ID', type: 'crm_status', statusType: 'STATUS', statusCodes: codes });
    const o = invalid(checker(['ID', 'STATUS_ID'], {}, cat)(['1', 'NOPE'], 3));
    expect(o.message).toContain('UC_29, … (40 in all)');
    expect(o.message).not.toContain('UC_30');
  });
});

describe('enumeration with items', () => {
  it('takes the item ID or its label (any case) and sends the ID', () => {
    expect(one('UF_CRM_TIER').ok('45')).toEqual({ UF_CRM_TIER: '45' });
    expect(one('UF_CRM_TIER').ok('gold')).toEqual({ UF_CRM_TIER: '45' });
    expect(one('UF_CRM_TIER').ok(' SILVER ')).toEqual({ UF_CRM_TIER: '46' });
  });
  it('an unknown label is invalid and lists the allowed values', () => {
    expect(one('UF_CRM_TIER').bad('Platinum')).toBe(
      'line 9, UF_CRM_TIER: "Platinum" is not one of the allowed values: Gold (45), Silver (46)',
    );
  });
  it('multiple enumerations take several | separated values', () => {
    expect(one('UF_CRM_TAGS').ok('hot|VIP|2')).toEqual({ UF_CRM_TAGS: ['1', '3', '2'] });
    expect(one('UF_CRM_TAGS').bad('Hot|Lukewarm')).toContain('"Lukewarm" is not one of the allowed values: Hot (1), Cold (2), VIP (3)');
  });
  it('a label names the column', () => {
    const check = checker(['ID', 'tier', 'Notes'], {}, portalCatalogue());
    expect(valid(check(['1', 'Gold', 'a|b'])).fields).toEqual({ UF_CRM_TIER: '45', UF_CRM_NOTES: ['a', 'b'] });
  });
});

describe('other user field types from the portal', () => {
  it('double, integer, boolean', () => {
    expect(one('UF_CRM_SCORE').ok('3,75')).toEqual({ UF_CRM_SCORE: 3.75 });
    expect(one('UF_CRM_SCORE').bad('high')).toContain('is not a number');
    expect(one('UF_CRM_COUNT').ok('-4')).toEqual({ UF_CRM_COUNT: -4 });
    expect(one('UF_CRM_COUNT').bad('4.5')).toBe('line 9, UF_CRM_COUNT: "4.5" is not a whole number');
    expect(one('UF_CRM_AGREED').ok('yes')).toEqual({ UF_CRM_AGREED: 1 });
    expect(one('UF_CRM_AGREED').ok('N')).toEqual({ UF_CRM_AGREED: 0 });
    expect(one('UF_CRM_AGREED').bad('perhaps')).toContain('is not yes or no');
  });
  it('date and datetime', () => {
    expect(one('UF_CRM_DAY').ok('01.12.2024')).toEqual({ UF_CRM_DAY: '2024-12-01' });
    expect(one('UF_CRM_DAY').bad('2024-11-31')).toContain('is not a real date');
    expect(one('UF_CRM_CALL_AT').ok('2023-12-28T14:05:48+03:00')).toEqual({ UF_CRM_CALL_AT: '2023-12-28T14:05:48+03:00' });
    expect(one('UF_CRM_CALL_AT').ok('28.12.2023 14:05')).toEqual({ UF_CRM_CALL_AT: '2023-12-28T14:05:00' });
    expect(one('UF_CRM_CALL_AT').ok('2023-12-28 09:05:01Z')).toEqual({ UF_CRM_CALL_AT: '2023-12-28T09:05:01+00:00' });
    expect(one('UF_CRM_CALL_AT').ok('2023-12-28')).toEqual({ UF_CRM_CALL_AT: '2023-12-28' });
    expect(one('UF_CRM_CALL_AT').bad('2023-12-28 25:00')).toContain('is not a real time of day');
    expect(one('UF_CRM_CALL_AT').bad('tomorrow')).toContain('is not a date and time');
    expect(one('UF_CRM_DAYS').ok('2024-01-01|02.01.2024')).toEqual({ UF_CRM_DAYS: ['2024-01-01', '2024-01-02'] });
  });
  it('url, multiple string, and unknown types passed through whole', () => {
    expect(one('UF_CRM_SITE').ok('https://example.com')).toEqual({ UF_CRM_SITE: 'https://example.com' });
    expect(one('UF_CRM_SITE').bad('no url here')).toContain('is not a web address');
    expect(one('UF_CRM_NOTES').ok('one | two')).toEqual({ UF_CRM_NOTES: ['one', 'two'] });
    expect(one('UF_CRM_BUDGET').ok('100|USD')).toEqual({ UF_CRM_BUDGET: '100|USD' });
  });
});
