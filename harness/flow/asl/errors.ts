import { StatesError } from '../serviceLimits.ts';

/** An error as a Catch records it and a Fail state or DescribeExecution reports it. */
export interface ErrorOutput {
  Error: string;
  Cause: string;
}

/** States.Runtime: no Retry or Catch sees it (not even one naming it); the execution fails. */
export function runtimeError(message: string): StatesError {
  return new StatesError('States.Runtime', message);
}

/** A construct of the definition the local interpreter does not implement: refused, never approximated. */
export class UnsupportedConstruct extends Error {
  override name = 'UnsupportedConstruct';
}

export function unsupported(what: string): UnsupportedConstruct {
  return new UnsupportedConstruct(`the local Step Functions interpreter does not implement ${what}`);
}

/**
 * A task's failure as Step Functions records it: Error = the name (a Lambda's errorType), Cause = for a Lambda
 * the error JSON it returned, for a States.* error its message.
 */
export function errorOutput(err: unknown): ErrorOutput {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e instanceof StatesError) return { Error: e.name, Cause: e.message };
  return { Error: e.name, Cause: JSON.stringify({ errorType: e.name, errorMessage: e.message }) };
}
