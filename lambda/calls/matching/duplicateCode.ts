/**
 * The portal's duplicate-index match codes, as Bitrix24 computes them (research in resolve.ts):
 * `DuplicateCommunicationCriterion::prepareCode` (crm/lib/integrity/duplicatecommunicationcriterion.php) turns
 * every stored PHONE/EMAIL value and every searched value into a code, and crm.duplicate.findbycomm matches codes
 * with `=`. The resolver must attribute the portal's aggregated answer to keys with the SAME codes, or a key
 * would get a lead the portal did not find for it (and the result would depend on how keys were grouped).
 *
 * This is not the diff's phone comparison (planning/phoneKey.ts, E.164 with a default country): the portal's
 * code knows no countries, so `9123456789` and `+7 912 345-67-89` are two keys here, as they are to the portal.
 * The sandbox (harness/sandbox/duplicates.ts) uses these functions as the server's rule; the test pins them to
 * the PHP's outputs.
 */

export type CommType = 'EMAIL' | 'PHONE';

/** PHP's trim(): only these characters, not Unicode spaces. */
const PHP_TRIM = /^[ \t\n\r\0\x0B]+|[ \t\n\r\0\x0B]+$/g;

/**
 * main/tools.php `NormalizePhone($number, 1)`: `+8…` → `008…`; keep digits, `#`, `*`, `,`, `;`; then, for 10 or
 * more characters, `80`/`81`/`82` stay, `00` and `011` (international prefixes) are dropped, a leading `8`
 * becomes `7` (the Russian trunk prefix), a leading `0` is dropped.
 */
export function bitrixNormalizePhone(number: string): string {
  let n = number;
  if ([...n].length >= 10 && n.startsWith('+8')) n = `00${n.slice(1)}`;
  n = n.replace(/[^0-9#*,;]/g, '');
  if (n.length < 10 || /^8[012]/.test(n)) return n;
  if (n.startsWith('00')) return n.slice(2);
  if (n.startsWith('011')) return n.slice(3);
  if (n.startsWith('8')) return `7${n.slice(1)}`;
  if (n.startsWith('0')) return n.slice(1);
  return n;
}

/**
 * DuplicateCommunicationCriterion::normalizePhone: NormalizePhone, then everything after the first run of digits
 * that a `;` or `#` (and digits or commas) follows is dropped: `79123456789;123` and `…#123` → `79123456789`.
 * An extension written as words (`доб. 123`, `ext 123`) is NOT dropped: its digits join the number
 * (`8 912 345-67-89 доб. 123` → `79123456789123`), as on the portal.
 */
export function duplicatePhoneCode(value: string): string {
  if (value === '') return '';
  const normalised = bitrixNormalizePhone(value);
  return normalised.replace(/(\d+)([;#]*)([\d,]*)/g, '$1');
}

/** prepareCodes for EMAIL: PHP-trimmed and lower-cased (mb_strtolower). */
export function duplicateEmailCode(value: string): string {
  return value.replace(PHP_TRIM, '').toLowerCase();
}

/** The code a value is indexed and searched under; '' when the portal would index nothing for it. */
export function duplicateCode(type: CommType, value: string): string {
  return type === 'PHONE' ? duplicatePhoneCode(value) : duplicateEmailCode(value);
}
