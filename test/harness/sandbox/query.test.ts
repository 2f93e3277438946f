import { describe, expect, it } from 'vitest';
import { asList, mergeParams, parsePhpQuery, phpFloat, phpInt } from '../../../harness/sandbox/query.ts';
import { phpMap, phpTruthy } from '../../../harness/sandbox/batch.ts';
import { formatDate, formatDateTime } from '../../../harness/sandbox/values.ts';

describe('sandbox: PHP-style parameter parsing', () => {
  it('builds nested objects from bracketed keys, [] appending the next index', () => {
    expect(parsePhpQuery('fields[PHONE][0][VALUE]=%2B1&fields[PHONE][0][VALUE_TYPE]=WORK&filter[@ID][]=1&filter[@ID][]=2&id=5')).toEqual({
      fields: { PHONE: { 0: { VALUE: '+1', VALUE_TYPE: 'WORK' } } },
      filter: { '@ID': { 0: '1', 1: '2' } },
      id: '5',
    });
    expect(parsePhpQuery('a[5]=x&a[]=y')).toEqual({ a: { 5: 'x', 6: 'y' } });
  });

  it('decodes + as space and percent escapes, in keys as well as values', () => {
    expect(parsePhpQuery('q=a+b%26c%3Dd&filter%5B%3E%3DID%5D=10&bad=%zz')).toEqual({ q: 'a b&c=d', filter: { '>=ID': '10' }, bad: '%zz' });
  });

  it('follows PHP naming quirks: dots and spaces in the base name become underscores', () => {
    expect(parsePhpQuery('a.b=1&c d=2&e[f.g]=3')).toEqual({ a_b: '1', c_d: '2', e: { 'f.g': '3' } });
  });

  it('treats arrays and PHP-style objects alike as lists', () => {
    expect(asList(['a'])).toEqual(['a']);
    expect(asList({ 0: 'a', 1: 'b' })).toEqual(['a', 'b']);
    expect(asList('a')).toBeUndefined();
  });

  it('merges body over query string deeply', () => {
    expect(mergeParams({ id: '1', fields: { A: '1' } }, { fields: { B: '2' } })).toEqual({ id: '1', fields: { A: '1', B: '2' } });
  });

  it('casts like PHP', () => {
    expect(phpInt('12abc')).toBe(12);
    expect(phpInt(' 7')).toBe(7);
    expect(phpInt('abc')).toBe(0);
    expect(phpInt(3.9)).toBe(3);
    expect(phpFloat('12.5kg')).toBe(12.5);
    expect(phpTruthy('0')).toBe(false);
    expect(phpTruthy('false')).toBe(true);
    expect(phpTruthy(1)).toBe(true);
  });

  it('encodes maps as PHP json_encode does', () => {
    expect(phpMap(new Map())).toEqual([]);
    expect(
      phpMap(
        new Map([
          ['0', 'a'],
          ['1', 'b'],
        ]),
      ),
    ).toEqual(['a', 'b']);
    expect(phpMap(new Map([['1', 'b']]))).toEqual({ 1: 'b' });
    expect(phpMap(new Map([['r1', true]]))).toEqual({ r1: true });
  });

  it('prints dates as the portal does', () => {
    expect(formatDate('1990-05-17', 180)).toBe('1990-05-17T03:00:00+03:00');
    expect(formatDate('17.05.1990', 180)).toBe('1990-05-17T03:00:00+03:00');
    expect(formatDate('1990-02-30', 180)).toBeUndefined();
    expect(formatDateTime('2023-12-28T14:05:48+01:00', 180)).toBe('2023-12-28T16:05:48+03:00');
    expect(formatDateTime('2023-12-28 14:05', 180)).toBe('2023-12-28T14:05:00+03:00');
  });
});
