import { describe, expect, it } from 'vitest';
import { MULTIFIELD_VALUE_TYPES, standardCatalogue } from '../../lambda/payloads/fields.ts';

describe('standardCatalogue', () => {
  it('has every field of the seed table with its documented type', () => {
    const { fields, fromPortal } = standardCatalogue();
    expect(fromPortal).toBe(false);
    const expected: Record<string, string> = {
      ADDRESS: 'string',
      ADDRESS_2: 'string',
      ADDRESS_CITY: 'string',
      ADDRESS_COUNTRY: 'string',
      ADDRESS_COUNTRY_CODE: 'string',
      ADDRESS_POSTAL_CODE: 'string',
      ADDRESS_PROVINCE: 'string',
      ADDRESS_REGION: 'string',
      ASSIGNED_BY_ID: 'user',
      BIRTHDATE: 'date',
      COMMENTS: 'string',
      COMPANY_ID: 'crm_company',
      COMPANY_TITLE: 'string',
      CONTACT_ID: 'crm_contact',
      CONTACT_IDS: 'crm_contact',
      CURRENCY_ID: 'crm_currency',
      EMAIL: 'crm_multifield',
      HONORIFIC: 'crm_status',
      IM: 'crm_multifield',
      LINK: 'crm_multifield',
      LAST_NAME: 'string',
      NAME: 'string',
      OPENED: 'char',
      OPPORTUNITY: 'double',
      IS_MANUAL_OPPORTUNITY: 'char',
      ORIGINATOR_ID: 'string',
      ORIGIN_ID: 'string',
      PHONE: 'crm_multifield',
      POST: 'string',
      SECOND_NAME: 'string',
      SOURCE_DESCRIPTION: 'string',
      SOURCE_ID: 'crm_status',
      STATUS_DESCRIPTION: 'string',
      STATUS_ID: 'crm_status',
      TITLE: 'string',
      UTM_CAMPAIGN: 'string',
      UTM_CONTENT: 'string',
      UTM_MEDIUM: 'string',
      UTM_SOURCE: 'string',
      UTM_TERM: 'string',
      WEB: 'crm_multifield',
    };
    for (const [code, type] of Object.entries(expected)) {
      expect(fields.get(code), code).toMatchObject({ code, type });
      expect(fields.get(code)!.readOnly, code).toBeFalsy();
    }
    expect(fields.get('CONTACT_IDS')!.multiple).toBe(true);
    expect(fields.get('STATUS_ID')!.statusType).toBe('STATUS');
    expect(fields.get('SOURCE_ID')!.statusType).toBe('SOURCE');
    expect(fields.get('HONORIFIC')!.statusType).toBe('HONORIFIC');
  });

  it('marks the fields crm.lead.fields reports as isReadOnly', () => {
    const { fields } = standardCatalogue();
    for (const code of [
      'ID',
      'DATE_CREATE',
      'DATE_MODIFY',
      'CREATED_BY_ID',
      'MODIFY_BY_ID',
      'DATE_CLOSED',
      'IS_RETURN_CUSTOMER',
      'HAS_PHONE',
      'HAS_EMAIL',
      'HAS_IMOL',
      'MOVED_BY_ID',
      'MOVED_TIME',
      'STATUS_SEMANTIC_ID',
      'LAST_ACTIVITY_TIME',
      'LAST_ACTIVITY_BY',
    ]) {
      expect(fields.get(code)?.readOnly, code).toBe(true);
    }
  });

  it('returns a fresh catalogue each time, so a caller may extend it', () => {
    const a = standardCatalogue();
    a.fields.set('UF_CRM_1', { code: 'UF_CRM_1', type: 'string' });
    expect(standardCatalogue().fields.has('UF_CRM_1')).toBe(false);
  });

  it("lists the server's VALUE_TYPEs per multifield (the docs' FACEBOOK and INSTAGRAM too), LINK only USER", () => {
    expect(MULTIFIELD_VALUE_TYPES.PHONE).toEqual(['WORK', 'MOBILE', 'FAX', 'HOME', 'PAGER', 'MAILING', 'OTHER']);
    expect(MULTIFIELD_VALUE_TYPES.EMAIL).toEqual(['WORK', 'HOME', 'MAILING', 'OTHER']);
    expect(MULTIFIELD_VALUE_TYPES.WEB).toEqual(['WORK', 'HOME', 'FACEBOOK', 'VK', 'LIVEJOURNAL', 'TWITTER', 'OTHER']);
    expect(MULTIFIELD_VALUE_TYPES.IM).toEqual([
      'FACEBOOK',
      'TELEGRAM',
      'VK',
      'SKYPE',
      'VIBER',
      'INSTAGRAM',
      'BITRIX24',
      'OPENLINE',
      'IMOL',
      'ICQ',
      'MSN',
      'JABBER',
      'OTHER',
    ]);
    expect(MULTIFIELD_VALUE_TYPES.IM).not.toContain('WORK');
    expect(MULTIFIELD_VALUE_TYPES.LINK).toEqual(['USER']);
  });
});
