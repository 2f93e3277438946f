import { describe, expect, it } from 'vitest';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { readHeader } from '../../lambda/payloads/header.ts';
import { addressTally, addTallies, partialAddressNotice, rowWarner } from '../../lambda/payloads/rowWarnings.ts';
import { checker, valid } from '../support/payload.ts';

describe('item 18: an offline dry run says what it could not check', () => {
  it('a row with a stage and a custom field is valid, with the hint', () => {
    const check = checker(['ID', 'STATUS_ID', 'CURRENCY_ID', 'UF_CRM_5', 'TITLE']);
    expect(valid(check(['1', 'NEW', 'RUB', 'x', 'Acme'], 2)).warnings).toEqual([
      'line 2: not checked offline: STATUS_ID code, UF_CRM_5 (the field, its type and values) (set the webhook for a full check)',
    ]);
    // Nothing to check in the row, nothing said.
    expect(valid(check(['2', '', '', '', 'Acme'], 3)).warnings).toEqual([]);
  });

  it('online columns carry no such hint', () => {
    const catalogue = standardCatalogue();
    catalogue.fromPortal = true;
    catalogue.fields.set('STATUS_ID', { code: 'STATUS_ID', type: 'crm_status', statusType: 'STATUS', statusCodes: ['NEW'] });
    expect(valid(checker(['ID', 'STATUS_ID'], {}, catalogue)(['1', 'NEW'])).warnings).toEqual([]);
  });
});

describe('item 18: the partial-address warning once per file, with the count', () => {
  const header = ['ID', 'ADDRESS_CITY', 'ADDRESS_COUNTRY'];
  const columns = readHeader(header, { mapping: {}, catalogue: standardCatalogue() }).columns;

  it('with a tally the rows carry no address warning; the file notice counts them', () => {
    const tally = addressTally();
    const warn = rowWarner(columns, header.length, tally);
    for (let line = 2; line < 12; line++)
      expect(warn(['1', 'Omsk', 'RU'], line, ['ADDRESS_CITY', 'ADDRESS_COUNTRY'], undefined)).toEqual([]);
    expect(partialAddressNotice(tally)).toBe(
      'partial address on 10 rows (first: line 2, without ADDRESS, ADDRESS_2, ADDRESS_POSTAL_CODE, ADDRESS_REGION, ADDRESS_PROVINCE, ' +
        'ADDRESS_COUNTRY_CODE): the portal keeps the address parts a row does not send',
    );
  });

  it("chunks' tallies add up, the first row stays first; no partial row, no notice", () => {
    const a = addressTally();
    const b = addressTally();
    rowWarner(columns, header.length, a)(['1', 'Omsk', ''], 5, ['ADDRESS_CITY'], undefined);
    rowWarner(columns, header.length, b)(['1', 'Omsk', ''], 9000, ['ADDRESS_CITY'], undefined);
    rowWarner(columns, header.length, b)(['1', 'Omsk', ''], 9001, ['ADDRESS_CITY'], undefined);
    expect(addTallies(a, b)).toMatchObject({ rows: 3, firstLine: 5 });
    expect(addTallies(addressTally(), b)).toMatchObject({ rows: 2, firstLine: 9000 });
    expect(partialAddressNotice(addressTally())).toBeUndefined();
  });
});
