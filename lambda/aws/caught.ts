import { redactText } from './log.ts';

/** Step Functions' caught error: `Cause` is the Lambda's error JSON ({ errorType, errorMessage, … }) or text. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/** The failed chunk's error as the report states it: a code and a human message (secrets masked). */
export function describeCaught(error: CaughtError): { code: string; message: string } {
  const code = error.Error || 'CHUNK_FAILED';
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Not JSON: keep the text as is.
  }
  return { code, message: redactText(message || code) };
}
