import { LAMBDA_FUNCTION_ARN, LAMBDA_INVOKE, START_EXECUTION } from './check.ts';
import { unsupported } from './errors.ts';
import type { TaskRequest } from './interpreter.ts';
import type { Json, JsonObject } from './types.ts';

/** What a Task state can reach, in process. */
export interface Integrations {
  /** A Lambda function's handler; rejects with its error (`name` is the errorType Step Functions matches). */
  invokeLambda(functionArn: string, payload: Json, state: string): Promise<Json>;
  startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string }>;
}

const field = (parameters: Json, key: string): Json | undefined =>
  typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? (parameters as JsonObject)[key] : undefined;

/** The service integration's error names: the API's exception as `StepFunctions.<Name>Exception`. */
function integrationError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const name = e.name.endsWith('Exception') ? e.name : `${e.name}Exception`;
  return Object.assign(new Error(e.message), { name: `StepFunctions.${name}` });
}

/** states:startExecution (request/response): StateMachineArn, Name, Input (a JSON value is sent as its text). */
async function startExecution(integrations: Integrations, parameters: Json): Promise<Json> {
  const stateMachineArn = field(parameters, 'StateMachineArn');
  const name = field(parameters, 'Name');
  const input = field(parameters, 'Input') ?? {};
  if (typeof stateMachineArn !== 'string' || typeof name !== 'string') {
    throw unsupported('a states:startExecution without a StateMachineArn and Name string');
  }
  try {
    const started = await integrations.startExecution({
      stateMachineArn,
      name,
      input: typeof input === 'string' ? input : JSON.stringify(input),
    });
    return { ExecutionArn: started.executionArn, StartDate: new Date().toISOString() };
  } catch (err) {
    throw integrationError(err);
  }
}

/** The Task resources our definition uses, dispatched to the integrations; any other resource is refused. */
export function taskRunner(integrations: Integrations): (request: TaskRequest) => Promise<Json> {
  return async ({ resource, parameters, state }) => {
    // payloadResponseOnly: the Task names the function; its result is the function's response.
    if (LAMBDA_FUNCTION_ARN.test(resource)) return integrations.invokeLambda(resource, parameters, state);
    if (LAMBDA_INVOKE.test(resource)) {
      const functionName = field(parameters, 'FunctionName');
      if (typeof functionName !== 'string') throw unsupported('a lambda:invoke without a FunctionName string');
      const payload = await integrations.invokeLambda(functionName, field(parameters, 'Payload') ?? null, state);
      return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
    }
    if (START_EXECUTION.test(resource)) return startExecution(integrations, parameters);
    throw unsupported(`the Task resource ${resource}`);
  };
}
