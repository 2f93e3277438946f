/**
 * Reading a portal answer's body with a ceiling: a portal (or whatever answers in its place) could send a body
 * of any size, and `res.text()` would hold all of it. The body is streamed and dropped past `max` bytes.
 */

/** Bodies above this are not read (default of ClientOptions.maxBodyBytes): far above any real answer. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 ** 2;

/** The answer was larger than the cap: the connection was dropped, the request may have been applied. */
export class AnswerTooLargeError extends Error {
  override name = 'AnswerTooLargeError';
  constructor(readonly limit: number) {
    super(`the answer is larger than ${formatBytes(limit)}`);
  }
}

/** The body as text, or AnswerTooLargeError as soon as it (or its declared length) passes `max` bytes. */
export async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new AnswerTooLargeError(max);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLargeError(max);
    }
    parts.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(parts));
}

function formatBytes(n: number): string {
  return n >= 1024 ** 2 ? `${Math.round((n / 1024 ** 2) * 10) / 10} MiB` : `${n} bytes`;
}
