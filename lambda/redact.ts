/**
 * Removing webhook secrets from text, with no dependency: the CLI, the portal client and the Lambda logs all
 * use it, and the start and finalize bundles must not pull the portal client's code in for it.
 */

/**
 * Removes webhook secrets from any text: every `/rest/<user>/<code>` path (also URL-encoded), credentials in
 * URLs, and the given secrets (the URL, a code) wherever they appear verbatim or encoded. The one redaction the
 * CLI, the client and the Lambda logs all use. Safe to call on anything before it is logged or reported.
 */
export function redact(text: string, ...secrets: string[]): string {
  let out = String(text)
    .replace(/(\/rest\/\d+\/)[^/\s"'<>?&#]+/gi, '$1***')
    .replace(/(%2Frest%2F\d+%2F)[^%\s"'<>?&#]+/gi, '$1***')
    .replace(/(https?:\/\/)[^\s/@"']+@/gi, '$1***@'); // user:password@ in any URL
  // A whole webhook URL given as the secret also hides its code wherever the code shows up alone.
  const codes = secrets.flatMap((s) => /\/rest\/\d+\/([^/?#\s]+)/.exec(s ?? '')?.[1] ?? []);
  for (const s of [...secrets, ...codes]) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}
