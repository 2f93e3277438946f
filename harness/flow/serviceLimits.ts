/**
 * The Step Functions quotas the local state machine enforces, so a test meets them before AWS does.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 */

/** Input or output of a state, an execution's input, a task's result: 256 KiB of UTF-8. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Events in one execution's history; past it AWS fails the execution (no Catch sees it). */
export const MAX_HISTORY_EVENTS = 25_000;

/** An error as Step Functions names it (`States.*`), with the text it records as the cause. */
export class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Throws States.DataLimitExceeded as AWS does when a payload passes the quota; returns the JSON's size. */
export function checkPayload(json: string, where: string): number {
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new StatesError('States.DataLimitExceeded', `${where} is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte payload quota`);
  }
  return bytes;
}

/**
 * An execution's history events, as asl/interpreter.ts adds them per state type the way Step Functions writes
 * them: a state entered and exited (2; a Fail state only entered), a task's scheduled/started/succeeded-or-failed
 * per attempt (3), the execution's start and end (1 each).
 */
export class History {
  events = 0;

  add(n: number): void {
    this.events += n;
    if (this.events > MAX_HISTORY_EVENTS) {
      throw new StatesError('States.Runtime', `the execution history passed ${MAX_HISTORY_EVENTS} events (the quota)`);
    }
  }
}
