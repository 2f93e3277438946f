import { describe, expect, it } from 'vitest';
import { currencyParser, statusParser, userParser } from '../../lambda/payloads/values/codes.ts';
import { idParser } from '../../lambda/payloads/values/ids.ts';
import { Bad } from '../../lambda/payloads/values/parser.ts';
import type { PortalUser } from '../../lambda/types.ts';

const reason = (r: unknown) => (r instanceof Bad ? r.reason : `not refused: ${JSON.stringify(r)}`);

describe('item 10: names where codes are expected', () => {
  const codes = ['NEW', 'IN_PROCESS', 'UC_A1', 'JUNK'];
  const names = { NEW: 'Не обработан', IN_PROCESS: 'В работе', UC_A1: 'В работе', JUNK: 'Некачественный лид' };
  const status = statusParser('STATUS_ID', codes, names);

  it('a stage name maps to its code (any case, any spacing); codes still pass', () => {
    expect(status('Не обработан')).toBe('NEW');
    expect(status('  не   ОБРАБОТАН ')).toBe('NEW');
    expect(status('new')).toBe('NEW');
    expect(status('Некачественный лид')).toBe('JUNK');
  });

  it('a name two codes share is refused with both; an unknown value lists CODE (name)', () => {
    expect(reason(status('В работе'))).toBe('"В работе" names several codes: IN_PROCESS (В работе), UC_A1 (В работе); write the code');
    expect(reason(status('Думает'))).toBe(
      '"Думает" is not a known STATUS_ID; allowed: NEW (Не обработан), IN_PROCESS (В работе), UC_A1 (В работе), JUNK (Некачественный лид)',
    );
  });

  it('sources and honorifics alike: Звонок → CALL', () => {
    const source = statusParser('SOURCE_ID', ['CALL', 'EMAIL'], { CALL: 'Звонок', EMAIL: 'Электронная почта' });
    expect(source('Звонок')).toBe('CALL');
  });

  it('offline a name is refused and says the webhook is needed', () => {
    expect(reason(statusParser('STATUS_ID', undefined)('Не обработан'))).toContain('names need the webhook');
  });

  it("currency names from the portal's list: US Dollar, Российский рубль → the code; others refused with the list", () => {
    const currency = currencyParser({ RUB: 'Российский рубль', USD: 'US Dollar' });
    expect(currency('US Dollar')).toBe('USD');
    expect(currency('российский рубль')).toBe('RUB');
    expect(currency('usd')).toBe('USD');
    expect(reason(currency('EUR'))).toBe('"EUR" is not a currency of the portal; allowed: RUB (Российский рубль), USD (US Dollar)');
    expect(currencyParser(undefined)('eur')).toBe('EUR');
  });

  it('the responsible person by name or e-mail → the user ID; namesakes refused with the candidates', () => {
    const users: PortalUser[] = [
      { ID: '5', NAME: 'Анна', LAST_NAME: 'Петрова', EMAIL: 'anna@example.com' },
      { ID: '7', NAME: 'Иван', LAST_NAME: 'Смирнов', EMAIL: 'ivan@example.com' },
      { ID: '9', NAME: 'Иван', LAST_NAME: 'Смирнов', EMAIL: 'i.smirnov@example.com' },
    ];
    const assigned = userParser(users, idParser('a user ID'));
    expect(assigned('Анна Петрова')).toBe(5);
    expect(assigned('Петрова Анна')).toBe(5);
    expect(assigned('ANNA@example.com')).toBe(5);
    expect(assigned('12')).toBe(12);
    expect(reason(assigned('Иван Смирнов'))).toBe(
      '"Иван Смирнов" names several users: 7 (Иван Смирнов, ivan@example.com), 9 (Иван Смирнов, i.smirnov@example.com); write the user ID',
    );
    expect(assigned('i.smirnov@example.com')).toBe(9);
    expect(reason(assigned('Пётр Иванов'))).toBe('"Пётр Иванов" is not a user of the portal (by ID, name or e-mail)');
    expect(reason(assigned('-3'))).toContain('is not a user ID');
  });
});
