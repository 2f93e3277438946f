import { StatesError } from '../serviceLimits.ts';
import { runtimeError, unsupported } from './errors.ts';
import { readPath } from './paths.ts';
import type { Json, JsonObject, State } from './types.ts';

type Kind = 'String' | 'Numeric' | 'Boolean' | 'Timestamp';
type Comparison = 'Equals' | 'LessThan' | 'GreaterThan' | 'LessThanEquals' | 'GreaterThanEquals';

/** RFC 3339 as Step Functions reads timestamps (a date, T, a time, a zone). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
export const isTimestamp = (v: unknown): v is string => typeof v === 'string' && TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v));

/** The value as the operator's kind compares it, or undefined when it is not of that kind (the rule is false). */
function asKind(kind: Kind, v: unknown): string | number | boolean | undefined {
  if (kind === 'String') return typeof v === 'string' ? v : undefined;
  if (kind === 'Numeric') return typeof v === 'number' ? v : undefined;
  if (kind === 'Boolean') return typeof v === 'boolean' ? v : undefined;
  return isTimestamp(v) ? Date.parse(v) : undefined;
}

function compare(op: Comparison, a: string | number | boolean, b: string | number | boolean): boolean {
  if (op === 'Equals') return a === b;
  if (typeof a === 'boolean' || typeof b === 'boolean') throw unsupported(`Boolean${op}`);
  if (op === 'LessThan') return a < b;
  if (op === 'GreaterThan') return a > b;
  if (op === 'LessThanEquals') return a <= b;
  return a >= b;
}

/** `*` matches any run of characters, `\*` a star (StringMatches). */
function wildcardMatch(value: string, pattern: string): boolean {
  const source = pattern
    .split(/(\\\*|\*)/)
    .map((part) => (part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** The type tests: true/false by the value's JSON type (IsPresent is handled before the value is read). */
const TYPE_TESTS: Record<string, (v: Json) => boolean> = {
  IsNull: (v) => v === null,
  IsBoolean: (v) => typeof v === 'boolean',
  IsNumeric: (v) => typeof v === 'number',
  IsString: (v) => typeof v === 'string',
  IsTimestamp: (v) => isTimestamp(v),
};

const OPERATOR = /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals)(Path)?$/;

/** One comparison rule: `Variable` and exactly one operator. */
function evaluateComparison(rule: JsonObject, data: Json, context: Json): boolean {
  const variable = rule.Variable;
  if (typeof variable !== 'string') throw unsupported(`a Choice rule without Variable: ${JSON.stringify(rule)}`);
  const operators = Object.keys(rule).filter((k) => k !== 'Variable' && k !== 'Next');
  if (operators.length !== 1) throw unsupported(`a Choice rule with operators ${operators.join(', ') || '(none)'}`);
  const [operator] = operators;
  const operand = rule[operator];
  const value = readPath(variable, data, context);
  if (operator === 'IsPresent') return (value !== undefined) === operand;
  // A comparison on a path that is not there fails the execution, as in AWS.
  if (value === undefined) throw runtimeError(`Invalid path '${variable}': the choice state's condition path references an invalid value`);
  if (operator in TYPE_TESTS) return TYPE_TESTS[operator](value) === operand;
  if (operator === 'StringMatches') return typeof value === 'string' && typeof operand === 'string' && wildcardMatch(value, operand);
  const match = OPERATOR.exec(operator);
  if (!match) throw unsupported(`the Choice operator ${operator}`);
  const [, kind, op, byPath] = match as unknown as [string, Kind, Comparison, string | undefined];
  const other = byPath ? readPath(operand as string, data, context) : operand;
  if (byPath && other === undefined) throw runtimeError(`Invalid path '${String(operand)}' in ${operator}`);
  const a = asKind(kind, value);
  const b = asKind(kind, other);
  if (b === undefined && !byPath) throw unsupported(`${operator} with the operand ${JSON.stringify(operand)}`);
  return a !== undefined && b !== undefined && compare(op, a, b);
}

const isKnownOperator = (op: string) => op === 'IsPresent' || op === 'StringMatches' || op in TYPE_TESTS || OPERATOR.test(op);

/** Refuses, before any run, a rule whose operator the interpreter does not implement. */
export function checkRule(rule: JsonObject): void {
  const nested = 'And' in rule ? rule.And : 'Or' in rule ? rule.Or : 'Not' in rule ? [rule.Not] : undefined;
  if (nested !== undefined) {
    for (const r of nested as JsonObject[]) checkRule(r);
    return;
  }
  const operators = Object.keys(rule).filter((k) => k !== 'Variable' && k !== 'Next');
  if (operators.length !== 1 || !isKnownOperator(operators[0])) throw unsupported(`the Choice rule ${JSON.stringify(rule)}`);
}

/** A rule: And / Or / Not of rules, or one comparison. */
export function evaluateRule(rule: JsonObject, data: Json, context: Json): boolean {
  if ('And' in rule) return (rule.And as JsonObject[]).every((r) => evaluateRule(r, data, context));
  if ('Or' in rule) return (rule.Or as JsonObject[]).some((r) => evaluateRule(r, data, context));
  if ('Not' in rule) return !evaluateRule(rule.Not as JsonObject, data, context);
  return evaluateComparison(rule, data, context);
}

/** The state a Choice goes to: the first rule that holds, else Default; neither is States.NoChoiceMatched. */
export function chooseNext(state: State, data: Json, context: Json): string {
  for (const rule of state.Choices ?? []) {
    if (evaluateRule(rule, data, context)) return rule.Next as string;
  }
  if (state.Default !== undefined) return state.Default;
  throw new StatesError('States.NoChoiceMatched', 'no Choice rule matched and the state has no Default');
}
