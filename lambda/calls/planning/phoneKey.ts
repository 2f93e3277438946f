import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { splitPhone } from '../../payloads/values/phoneParts.ts';

/** The default country when neither the run nor the portal names one: the importer's users are mostly in Russia. */
export const FALLBACK_PHONE_COUNTRY = 'RU';

/**
 * The comparison key of a phone: its E.164 digits (without "+") read with `country` as the default, so
 * `8 (912) 345-67-89` and `+7 912 345-67-89` are one number. An extension is part of the key in one spelling
 * (`;ext=123` for `доб. 123`, `ext. 123`, `x123`, `#123`): the same number with another extension, or with none, is
 * another phone, so a row's extension is never dropped as "already there". A number libphonenumber does not take as
 * possible (too short, unknown plan) falls back to its digits: `+1 555` ≡ `1555`, as before.
 */
export function phoneKey(value: string, country: string = FALLBACK_PHONE_COUNTRY): string {
  const { number, ext } = splitPhone(value.trim());
  const tail = ext ? `;ext=${ext}` : '';
  const parsed = parsePhoneNumberFromString(number, { defaultCountry: country as CountryCode, extract: false });
  if (parsed?.isPossible()) return `${parsed.number.slice(1)}${tail}`;
  const digits = number.replace(/\D/g, '');
  return digits === '' ? value.trim().toLowerCase() : `${digits}${tail}`;
}
