import { checkRule } from './choice.ts';
import { unsupported } from './errors.ts';
import type { Catcher, Definition, Json, JsonObject, Retrier, State } from './types.ts';

/** The fields the interpreter implements, per state type (Type and Comment everywhere). */
const FIELDS: Record<string, readonly string[]> = {
  Task: ['Next', 'End', 'InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'Resource', 'Retry', 'Catch'],
  Pass: ['Next', 'End', 'InputPath', 'OutputPath', 'Parameters', 'Result', 'ResultPath'],
  Choice: ['Choices', 'Default', 'InputPath', 'OutputPath'],
  Wait: ['Next', 'End', 'InputPath', 'OutputPath', 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'],
  Succeed: ['InputPath', 'OutputPath'],
  Fail: ['Error', 'ErrorPath', 'Cause', 'CausePath'],
};
const TOP_LEVEL = ['StartAt', 'States', 'TimeoutSeconds', 'Comment', 'Version'];
const RETRIER = ['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate', 'MaxDelaySeconds', 'JitterStrategy', 'Comment'];
const CATCHER = ['ErrorEquals', 'Next', 'ResultPath', 'Comment'];
const WAIT_TIMES = ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'];

/** The Task resources the interpreter can call: a Lambda function by ARN, lambda:invoke, states:startExecution. */
export const LAMBDA_FUNCTION_ARN = /^arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;
export const LAMBDA_INVOKE = /^arn:[\w-]+:states:::lambda:invoke$/;
export const START_EXECUTION = /^arn:[\w-]+:states:::states:startExecution$/;

function onlyFields(what: string, value: object, allowed: readonly string[]): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw unsupported(`${what}: ${extra.join(', ')}`);
}

function checkTarget(def: Definition, from: string, target: unknown): void {
  if (typeof target !== 'string' || !Object.hasOwn(def.States, target)) {
    throw new Error(`state ${from} goes to ${JSON.stringify(target)}, which the definition does not have`);
  }
}

function checkRules(name: string, state: State, def: Definition): void {
  for (const r of state.Retry ?? []) onlyFields(`the Retry fields of ${name}`, r as Retrier, RETRIER);
  for (const c of state.Catch ?? []) {
    onlyFields(`the Catch fields of ${name}`, c as Catcher, CATCHER);
    checkTarget(def, name, c.Next);
  }
}

function checkTransition(name: string, state: State, def: Definition): void {
  if (state.Type === 'Choice') {
    if (!state.Choices?.length) throw new Error(`Choice state ${name} has no Choices`);
    for (const rule of state.Choices as JsonObject[]) {
      checkRule(rule);
      checkTarget(def, name, rule.Next as Json);
    }
    if (state.Default !== undefined) checkTarget(def, name, state.Default);
    return;
  }
  if (state.Type === 'Succeed' || state.Type === 'Fail') return;
  if ((state.Next === undefined) === (state.End !== true)) throw new Error(`state ${name} needs exactly one of Next and End: true`);
  if (state.Next !== undefined) checkTarget(def, name, state.Next);
}

/** Intrinsic functions (States.Format(…)…) in a template: the definition uses none, so none is implemented. */
function checkTemplate(name: string, template: Json | undefined): void {
  if (typeof template !== 'object' || template === null) return;
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string' && value.startsWith('States.'))
      throw unsupported(`the intrinsic function ${value} (state ${name})`);
    checkTemplate(name, value);
  }
}

function checkState(name: string, state: State, def: Definition): void {
  const allowed = FIELDS[state.Type];
  if (!allowed) throw unsupported(`the state type ${state.Type} (state ${name})`);
  onlyFields(`the ${state.Type} fields of ${name}`, state, ['Type', 'Comment', ...allowed]);
  checkTransition(name, state, def);
  checkRules(name, state, def);
  checkTemplate(name, state.Parameters);
  checkTemplate(name, state.ResultSelector);
  if (state.Type === 'Task') {
    const r = state.Resource ?? '';
    if (![LAMBDA_FUNCTION_ARN, LAMBDA_INVOKE, START_EXECUTION].some((re) => re.test(r)))
      throw unsupported(`the Task resource ${r} (state ${name})`);
  }
  if (state.Type === 'Wait' && WAIT_TIMES.filter((f) => f in state).length !== 1) {
    throw new Error(`Wait state ${name} needs exactly one of ${WAIT_TIMES.join(', ')}`);
  }
}

/**
 * Refuses a definition using anything the interpreter does not implement (a field, a state type, a resource),
 * so a construct AWS would run differently never passes silently.
 */
export function checkDefinition(def: Definition): void {
  onlyFields('the top-level fields', def, TOP_LEVEL);
  checkTarget(def, '(StartAt)', def.StartAt);
  for (const [name, state] of Object.entries(def.States)) checkState(name, state, def);
}
