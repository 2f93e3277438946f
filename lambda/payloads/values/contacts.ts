import { quote } from '../quote.ts';
import { portalEmailProblem } from './checkEmail.ts';
import { Bad, type Parser } from './parser.ts';
import { PHONE_DASHES, PHONE_SPACES, splitPhone } from './phoneParts.ts';

// Phone numbers, e-mail addresses and web addresses: the multifield values with a shape to check (url is also a scalar type).

const PHONE_CHARS = new RegExp(`^\\+?[0-9 \\-().${PHONE_SPACES}${PHONE_DASHES}]+$`);

/**
 * Digits with an optional leading +, spaces, dashes, parentheses, dots (non-breaking ones too); 5–15 digits,
 * an extension (`доб. 123`, `ext. 123`, `x3651`, `#123`) allowed after them. Sent as written: the portal keeps
 * what it is given, and planning compares numbers in E.164 (calls/planning/phoneKey.ts).
 */
export const parsePhone: Parser = (v) => {
  const { number } = splitPhone(v);
  if (PHONE_CHARS.test(number)) {
    let digits = 0;
    for (let i = 0; i < number.length; i++) {
      const c = number.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits >= 5 && digits <= 15) return v;
    return new Bad(`${quote(v)} is not a phone number (${digits} digits; a phone number has 5 to 15)`);
  }
  return new Bad(
    `${quote(v)} is not a phone number (digits with an optional leading +, spaces, dashes, parentheses, dots, and an extension such as "доб. 123" or "ext. 123")`,
  );
};

const EMAIL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{}~.-]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}\p{N}-]*\p{L}[\p{L}\p{N}-]*$/u;

/** An e-mail address in the usual shape, which the portal's check_email() also takes (checkEmail.ts). */
export const parseEmail: Parser = (v) => {
  if (EMAIL.test(v)) {
    const at = v.indexOf('@');
    if (v[0] !== '.' && v[at - 1] !== '.' && !v.includes('..')) {
      const problem = portalEmailProblem(v);
      return problem ? new Bad(`${quote(v)} is not an e-mail address the portal accepts (${problem})`) : v;
    }
  }
  return new Bad(`${quote(v)} is not an e-mail address`);
};

const HOST = String.raw`(?:(?:[\p{L}\p{N}](?:[\p{L}\p{N}_-]*[\p{L}\p{N}])?\.)+\p{L}[\p{L}\p{N}-]*\.?|\d{1,3}(?:\.\d{1,3}){3}|localhost)`;
const URL_RE = new RegExp(String.raw`^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^\s/?#@]+@)?${HOST}(?::\d{1,5})?(?:[/?#]\S*)?$`, 'u');

/** A plausible URL or bare domain (`https://example.com/x`, `www.example.com`, `example.ru`). */
export const parseUrl: Parser = (v) => (URL_RE.test(v) ? v : new Bad(`${quote(v)} is not a web address (a URL or a domain)`));

/** Social WEB types (VK, TWITTER, LIVEJOURNAL) may hold a handle instead of a URL. */
export const parseWebOrHandle: Parser = (v) =>
  URL_RE.test(v) || /^@?[\p{L}\p{N}_.-]+$/u.test(v) ? v : new Bad(`${quote(v)} is not a web address or a handle`);
