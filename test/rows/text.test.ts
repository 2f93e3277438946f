import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { decodeBytes, encodeText, latin1ToCodePage } from '../../lambda/rows/text.ts';

describe('rows/text', () => {
  const text = 'ID;Имя;€ 5\r\n';

  it('encodes and decodes UTF-8 and windows-1251 the way iconv-lite does', () => {
    expect(encodeText(text, 'utf-8')).toEqual(Buffer.from(text, 'utf8'));
    expect(encodeText('ID;Имя', 'windows-1251')).toEqual(iconv.encode('ID;Имя', 'win1251'));
    expect(decodeBytes(encodeText(text, 'utf-8'), 'utf-8')).toBe(text);
    expect(decodeBytes(encodeText('ID;Имя', 'windows-1251'), 'windows-1251')).toBe('ID;Имя');
  });

  it('decodes a plain Uint8Array, not only a Buffer', () => {
    expect(decodeBytes(new Uint8Array(Buffer.from('Привет')), 'utf-8')).toBe('Привет');
  });

  it('maps latin1 text (one char per byte) to the windows-1251 text of those bytes', () => {
    const bytes = iconv.encode('Иван, "x"', 'win1251');
    expect(latin1ToCodePage(bytes.toString('latin1'), 'windows-1251')).toBe('Иван, "x"');
    expect(latin1ToCodePage('plain ASCII', 'windows-1251')).toBe('plain ASCII');
  });
});
