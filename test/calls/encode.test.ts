import { describe, expect, it } from 'vitest';
import { command, toQuery } from '../../lambda/calls/encode.ts';
import { parsePhpQuery } from '../../harness/sandbox/query.ts';

describe('toQuery: PHP-style query strings', () => {
  it('encodes keys and values, spaces as %20, brackets in keys', () => {
    expect(toQuery({ id: 5, fields: { TITLE: 'A & B = C # 100% + more' } })).toBe(
      'id=5&fields%5BTITLE%5D=A%20%26%20B%20%3D%20C%20%23%20100%25%20%2B%20more',
    );
    expect(toQuery({ filter: { '>=ID': 1001 } })).toBe('filter%5B%3E%3DID%5D=1001');
  });

  it('indexes arrays and nests multifield objects', () => {
    expect(
      toQuery({
        fields: {
          PHONE: [
            { VALUE: '+7 1', VALUE_TYPE: 'WORK' },
            { ID: '9', DELETE: 'Y' },
          ],
        },
      }),
    ).toBe(
      [
        'fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B7%201',
        'fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK',
        'fields%5BPHONE%5D%5B1%5D%5BID%5D=9',
        'fields%5BPHONE%5D%5B1%5D%5BDELETE%5D=Y',
      ].join('&'),
    );
  });

  it('keeps empty strings (a clear) and turns null into an empty value', () => {
    expect(toQuery({ fields: { TITLE: '', NAME: null, SKIP: undefined } })).toBe('fields%5BTITLE%5D=&fields%5BNAME%5D=');
  });

  it('round-trips awkward values exactly through PHP parsing', () => {
    const fields = {
      TITLE: 'Ärger & Söhne = 100% #1 + Co',
      COMMENTS: 'line1\nline2 \'quoted\' "dq" (x) * ! ~',
      NAME: 'Иван 李 🎉',
      EMPTY: '',
      PHONE: [{ VALUE: '+7 (900) 123-45-67', VALUE_TYPE: 'WORK' }],
    };
    const q = command('crm.lead.update', { id: 12, fields, params: { REGISTER_SONET_EVENT: 'N' } });
    expect(q.startsWith('crm.lead.update?')).toBe(true);
    const parsed = parsePhpQuery(q.slice(q.indexOf('?') + 1));
    expect(parsed).toEqual({
      id: '12',
      fields: { ...fields, PHONE: { '0': { VALUE: '+7 (900) 123-45-67', VALUE_TYPE: 'WORK' } } },
      params: { REGISTER_SONET_EVENT: 'N' },
    });
  });

  it('refuses non-finite numbers instead of sending "NaN"', () => {
    expect(() => toQuery({ x: Number.NaN })).toThrow(/NaN/);
  });
});
