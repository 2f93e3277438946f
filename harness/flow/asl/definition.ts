import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Workflow } from '../../../infra/workflow.ts';
import type { Definition } from './types.ts';

/** Where the local machine lives: the partition, region and account the synthesised tokens resolve to. */
export const LOCAL_PARTITION = 'aws';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
const arn = (service: string, resource: string) => `arn:${LOCAL_PARTITION}:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

/** The Lambda functions the definition invokes, by the ARN its Task states name. */
export const LOCAL_FUNCTIONS = {
  chunk: arn('lambda', 'function:b24-lead-import-chunk'),
  finalize: arn('lambda', 'function:b24-lead-import-finalize'),
} as const;

/** The pseudo parameters a synthesised definition may reference (anything else is a token we cannot resolve). */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': LOCAL_PARTITION,
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Resolves a token of the DefinitionString other than a pseudo parameter (e.g. a function's Fn::GetAtt), or undefined. */
export type TokenResolver = (token: unknown) => string | undefined;

/** One part of the DefinitionString's Fn::Join: a string, a Ref to a pseudo parameter, or what `more` resolves. */
function resolvePart(part: unknown, more: TokenResolver): string {
  if (typeof part === 'string') return part;
  const ref = (part as { Ref?: unknown }).Ref;
  if (typeof ref === 'string' && ref in PSEUDO) return PSEUDO[ref];
  const resolved = more(part);
  if (resolved !== undefined) return resolved;
  throw new Error(`the synthesised definition holds a token the local flow cannot resolve: ${JSON.stringify(part)}`);
}

/** A DefinitionString as CloudFormation holds it (a string or Fn::Join of strings and tokens) → the ASL. */
export function resolveDefinitionString(value: unknown, more: TokenResolver = () => undefined): Definition {
  if (typeof value === 'string') return JSON.parse(value) as Definition;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`the DefinitionString is neither a string nor an Fn::Join: ${JSON.stringify(value).slice(0, 200)}`);
  return JSON.parse(join[1].map((part) => resolvePart(part, more)).join(join[0])) as Definition;
}

/**
 * The workflow of infra/workflow.ts synthesised by the CDK, in a stack of its own with the functions imported
 * by local ARNs (the full stack would bundle the handlers; the definition does not depend on them).
 */
export function synthesiseDefinition(): Definition {
  const app = new App();
  const stack = new Stack(app, 'Local', { env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION } });
  const fn = (id: string, functionArn: string) => lambda.Function.fromFunctionAttributes(stack, id, { functionArn, sameEnvironment: true });
  const workflow = new Workflow(stack, 'Run', {
    chunk: fn('Chunk', LOCAL_FUNCTIONS.chunk),
    finalize: fn('Finalize', LOCAL_FUNCTIONS.finalize),
    logRetentionDays: 7,
    tracing: false,
  });
  const machine = workflow.stateMachine.node.defaultChild as { definitionString?: unknown };
  return resolveDefinitionString(stack.resolve(machine.definitionString));
}

let cached: Definition | undefined;

/** The synthesised definition, once per process (a synth takes a second or two; tests start many machines). */
export function workflowDefinition(): Definition {
  cached ??= synthesiseDefinition();
  return structuredClone(cached);
}
