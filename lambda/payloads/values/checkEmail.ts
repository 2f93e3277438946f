/**
 * The portal's own e-mail test, main module check_email($email, $strict = false) (bitrix/modules/main/tools.php),
 * which CCrmLead::CheckFields applies to every EMAIL value and which refuses the whole update on failure. The
 * rule, restated: not strict, so the value is trimmed and, when it holds a non-empty part inside <…>, […] or
 * (…), that part is tested; over 320 characters fails; otherwise it must be dot-separated atoms, "@", one or
 * more domain labels each followed by ".", and a last label of 2 to 20 characters, case-insensitive. Atoms are
 * letters (any script), digits and = _ + ~ ' ! $ & * ^ ` | # % / ? { } -; labels are letters (any script),
 * digits and -. The current source allows letters of any script (\p{L}) in both parts, so an IDN domain passes
 * as typed and as punycode alike.
 */
const ATOM = "\\p{L}=_0-9a-z+~'!$&*^`|#%/?{}-";
const LABEL = '\\p{L}a-z0-9-';
const PORTAL_EMAIL = new RegExp(`^[${ATOM}]+(?:\\.[${ATOM}]+)*@(?:[${LABEL}]+\\.)+[${LABEL}]{2,20}$`, 'iu');
const BRACKETED = /[<[(](.*?)[>\])]/;
const MAX_CHARS = 320;

/** Whether check_email() would take `value` (the reason when not). */
export function portalEmailProblem(value: string): string | undefined {
  let email = value.trim();
  const inner = BRACKETED.exec(email)?.[1];
  if (inner) email = inner;
  const chars = [...email].length;
  if (chars > MAX_CHARS) return `${chars} characters, over the portal's ${MAX_CHARS}`;
  return PORTAL_EMAIL.test(email) ? undefined : 'the portal would refuse it';
}
