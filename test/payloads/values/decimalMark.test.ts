import { describe, expect, it } from 'vitest';
import { decideDecimalMark, markEvidence } from '../../../lambda/payloads/values/decimalMark.ts';

describe('#18.1 the file decides its decimal mark from its other amounts', () => {
  it.each([
    ['1.234,50', ','],
    ['12,5', ','],
    ['1 234,567', ','],
    ['1.234.567', ','],
    ['1 234,50 ₽', ','],
    ['1,234.50', '.'],
    ['$1,234.50', '.'],
    ['1,234,567', '.'],
    ['12.5', '.'],
    ['12,500', undefined],
    ['1.234', undefined],
    ['12500', undefined],
    ['1 234', undefined],
    ['abc', undefined],
  ])('%s proves %s', (cell, mark) => {
    expect(markEvidence(cell)).toBe(mark);
  });
  it('amounts that agree settle it; disagreeing ones or none leave it auto; the run setting wins', () => {
    expect(decideDecimalMark('auto', ['12,500', '1.234,50', '', '7'])).toBe(',');
    expect(decideDecimalMark('auto', ['12,500', '$1,234.50'])).toBe('.');
    expect(decideDecimalMark('auto', ['1,234.50', '1.234,50'])).toBe('auto');
    expect(decideDecimalMark('auto', ['12,500', '1.234'])).toBe('auto');
    expect(decideDecimalMark('.', ['1.234,50'])).toBe('.');
  });
});
