import { describe, expect, it } from 'vitest';
import { checker, invalid, valid } from '../support/payload.ts';

describe('multifield columns', () => {
  it('send { VALUE, VALUE_TYPE } without ID; a bare column is WORK', () => {
    const check = checker(['ID', 'PHONE', 'EMAIL', 'WEB']);
    const row = valid(check(['1', '+7 912 345-67-89', 'bob@example.com', 'example.com']));
    expect(row.fields).toEqual({
      PHONE: [{ VALUE: '+7 912 345-67-89', VALUE_TYPE: 'WORK' }],
      EMAIL: [{ VALUE: 'bob@example.com', VALUE_TYPE: 'WORK' }],
      WEB: [{ VALUE: 'example.com', VALUE_TYPE: 'WORK' }],
    });
  });

  it('several columns add to one array, in column order', () => {
    const check = checker(['ID', 'PHONE_WORK', 'EMAIL_HOME', 'PHONE_MOBILE']);
    const row = valid(check(['1', '84951234567', 'a@b.ru', '+79123456789']));
    expect(row.fields.PHONE).toEqual([
      { VALUE: '84951234567', VALUE_TYPE: 'WORK' },
      { VALUE: '+79123456789', VALUE_TYPE: 'MOBILE' },
    ]);
    expect(row.fields.EMAIL).toEqual([{ VALUE: 'a@b.ru', VALUE_TYPE: 'HOME' }]);
  });

  it('one cell holds several values separated by |, empty pieces ignored', () => {
    const check = checker(['ID', 'EMAIL_WORK']);
    const row = valid(check(['1', ' a@x.com | b@y.org |']));
    expect(row.fields.EMAIL).toEqual([
      { VALUE: 'a@x.com', VALUE_TYPE: 'WORK' },
      { VALUE: 'b@y.org', VALUE_TYPE: 'WORK' },
    ]);
    expect(invalid(check(['1', '|'])).errorCode).toBe('INVALID_VALUE');
  });

  it('validates e-mail syntax with the exact message', () => {
    const check = checker(['ID', 'EMAIL_WORK']);
    const o = invalid(check(['3', 'bob@'], 42));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe('line 42, EMAIL_WORK: "bob@" is not an e-mail address');
    for (const bad of ['bob', 'bob@example', 'bob@@example.com', 'bo b@example.com', '.bob@example.com', 'bob..x@example.com']) {
      expect(check(['3', bad]).ok, bad).toBe(false);
    }
    for (const good of ['Bob.Smith+tag@sub.example.co.uk', 'иван@почта.рф', "o'neil@example.com"]) {
      expect(check(['3', good]).ok, good).toBe(true);
    }
    // the bad piece is quoted, not the whole cell
    expect(invalid(check(['3', 'ok@example.com|nope'], 5)).message).toBe('line 5, EMAIL_WORK: "nope" is not an e-mail address');
  });

  it('validates plausible phones: optional leading +, spaces, dashes, parentheses, dots; 5 to 15 digits', () => {
    const check = checker(['ID', 'PHONE_MOBILE']);
    for (const good of ['+7 (912) 345-67-89', '8.800.555.35.35', '12345', '+123456789012345', '8 (495) 123 45 67']) {
      expect(valid(check(['1', good])).fields.PHONE, good).toEqual([{ VALUE: good, VALUE_TYPE: 'MOBILE' }]);
    }
    expect(invalid(check(['1', '1234'], 4)).message).toBe(
      'line 4, PHONE_MOBILE: "1234" is not a phone number (4 digits; a phone number has 5 to 15)',
    );
    expect(invalid(check(['1', '+1234567890123456'])).message).toContain('16 digits');
    expect(invalid(check(['1', 'call me'])).message).toContain('"call me" is not a phone number');
    expect(check(['1', '12+345678']).ok).toBe(false);
    expect(check(['1', '+7 912 ext 5']).ok).toBe(false);
  });

  it('validates WEB as a URL or domain; social types also take a handle', () => {
    const check = checker(['ID', 'WEB', 'WEB_VK']);
    for (const good of ['https://example.com/path?q=1', 'www.example.com', 'example.ru', 'http://пример.рф', 'http://10.0.0.1:8080/']) {
      expect(check(['1', good, '']).ok, good).toBe(true);
    }
    expect(invalid(check(['1', 'not a site', ''], 6)).message).toBe('line 6, WEB: "not a site" is not a web address (a URL or a domain)');
    expect(check(['1', 'localhost..', '']).ok).toBe(false);
    expect(valid(check(['1', '', 'durov'])).fields.WEB).toEqual([{ VALUE: 'durov', VALUE_TYPE: 'VK' }]);
  });

  it('IM passes values through with their VALUE_TYPE (LINK columns are refused: openChannel.test.ts)', () => {
    const check = checker(['ID', 'IM_TELEGRAM', 'IM', 'IM_SKYPE']);
    expect(valid(check(['1', '@bob', 'skype:bob', 'a | b'])).fields).toEqual({
      IM: [
        { VALUE: '@bob', VALUE_TYPE: 'TELEGRAM' },
        { VALUE: 'skype:bob', VALUE_TYPE: 'OTHER' },
        { VALUE: 'a', VALUE_TYPE: 'SKYPE' },
        { VALUE: 'b', VALUE_TYPE: 'SKYPE' },
      ],
    });
  });

  it('the clear marker adds TYPE:VALUE_TYPE to clears and sends nothing for that column', () => {
    const check = checker(['ID', 'PHONE_MOBILE', 'PHONE', 'EMAIL_HOME']);
    const row = valid(check(['1', '#N/A', '+7 912 345 67 89', ' #N/A ']));
    expect(row.clears).toEqual(['PHONE:MOBILE', 'EMAIL:HOME']);
    expect(row.fields).toEqual({ PHONE: [{ VALUE: '+7 912 345 67 89', VALUE_TYPE: 'WORK' }] });
  });
});
