import { quote } from '../quote.ts';
import { portalEmailProblem } from './checkEmail.ts';
import { Bad, type Parser } from './parser.ts';

// Phone numbers, e-mail addresses and web addresses: the multifield values with a shape to check (url is also a scalar type).

const PHONE_CHARS = /^\+?[0-9 \u00A0\-().]+$/;

/** Digits with an optional leading +, spaces, dashes, parentheses, dots; 5–15 digits. Sent as written. */
export const parsePhone: Parser = (v) => {
  if (PHONE_CHARS.test(v)) {
    let digits = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits >= 5 && digits <= 15) return v;
    return new Bad(`${quote(v)} is not a phone number (${digits} digits; a phone number has 5 to 15)`);
  }
  return new Bad(`${quote(v)} is not a phone number (digits with an optional leading +, spaces, dashes, parentheses, dots)`);
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
