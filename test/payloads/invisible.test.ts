import { describe, expect, it } from 'vitest';
import { defectFinder } from '../../lambda/payloads/cellDefects.ts';
import { checker, invalid, valid } from '../support/payload.ts';

/**
 * Characters that change how text displays without showing themselves (bidi embeddings, overrides and
 * isolates; zero-width space and joiners; a zero-width no-break space) would let a lead's name or phone read
 * differently in the CRM than it is stored: refused per cell like control characters, naming the code point.
 */
const INVISIBLE = [
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200B',
  '\u200C',
  '\u200D',
  '\uFEFF',
];
const hex = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

describe('invisible characters that change how text displays', () => {
  it.each(INVISIBLE.map((c) => [hex(c), c]))('%s in a cell is CONTROL_CHARACTER naming the code point', (code, c) => {
    const fault = defectFinder(64 * 1024)(`Ivan${c}ov`);
    expect(fault?.[0]).toBe('CONTROL_CHARACTER');
    expect(fault?.[1]).toContain(code);
  });

  it('a right-to-left override in TITLE makes the row invalid; the message shows the code point, not the character', () => {
    const check = checker(['ID', 'TITLE', 'NAME']);
    const o = invalid(check(['1', 'invoice\u202Efdp.exe', 'ok'], 4));
    expect(o.errorCode).toBe('CONTROL_CHARACTER');
    expect(o.message).toBe(
      'line 4, TITLE: "invoice\\u202Efdp.exe" contains an invisible character that changes how text displays (U+202E)',
    );
    expect(o.message).not.toContain('\u202E');
  });

  it('in NAME, PHONE and the ID cell too', () => {
    const check = checker(['ID', 'NAME', 'PHONE']);
    expect(invalid(check(['1', 'Jo\u200Bhn', ''])).errorCode).toBe('CONTROL_CHARACTER');
    expect(invalid(check(['1', '', '+7 999\u2066 123'])).errorCode).toBe('CONTROL_CHARACTER');
    expect(invalid(check(['1\u200D', '', ''])).errorCode).toBe('CONTROL_CHARACTER');
  });

  it('visible text of any script (Cyrillic, Hebrew, emoji) still passes', () => {
    const check = checker(['ID', 'NAME', 'COMMENTS']);
    expect(valid(check(['1', 'Иван', 'שלום עולם'])).fields).toEqual({ NAME: 'Иван', COMMENTS: 'שלום עולם' });
    expect(defectFinder(64 * 1024)('Ünïcödé — “quotes” 😀')).toBeUndefined();
  });
});
