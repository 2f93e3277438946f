import { readFileSync } from 'node:fs';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { DeployConfigInput } from '../../infra/config.ts';
import { LeadImportStack } from '../../infra/stack.ts';

/** Shared by the infra tests: one synth (with the real esbuild bundling) per configuration. */
export interface Synth {
  app: App;
  stack: LeadImportStack;
  template: Template;
  json: string;
  nag: PolicyValidationPluginReport;
}

/** cdk.json's context (the feature flags): `cdk synth` hands it to the app, so the tests synthesise with it too. */
export function cdkContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export function synth(config: DeployConfigInput = {}): Synth {
  const app = new App({ context: cdkContext() });
  const stack = new LeadImportStack(app, 'Test', { config });
  const template = Template.fromStack(stack);
  // The AwsSolutions pack directly on the tree: acknowledged findings are left out, errors and warnings stay.
  const nag = new cdkNag.AwsSolutionsChecks(app).validateScope(app);
  return { app, stack, template, json: JSON.stringify(template.toJSON()), nag };
}

export function logicalId(construct: IConstruct): string {
  const stack = (construct as { stack?: LeadImportStack }).stack;
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return (stack ?? element.stack).getLogicalId(element);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every statement of every AWS::IAM::Policy attached to a role. */
export function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => ((p.Properties.Roles ?? []) as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** A retrier as the ASL writes it. */
export interface AslRetrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/** The fields of an ASL state the tests read. */
export interface AslState {
  Type: string;
  Next?: string;
  Default?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: AslRetrier[];
  Catch?: Array<{ ErrorEquals: string[]; ResultPath?: string; Next: string }>;
  Choices?: Array<Record<string, unknown>>;
  ResultPath?: string;
  Error?: string;
  ErrorPath?: string;
  CausePath?: string;
}

/** What a CloudFormation token becomes in the definition text. */
const TOKEN = '$' + '{token}';

/** The state machine definition as JSON; CloudFormation tokens become `${token}` strings. */
export function definitionOf(template: Template): { StartAt: string; TimeoutSeconds?: number; States: Record<string, AslState> } {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const def = machine.Properties.DefinitionString;
  const text = typeof def === 'string' ? def : (def['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : TOKEN)).join('');
  return JSON.parse(text);
}

/** Every acknowledgment recorded in the tree: rule id → reason. */
export function acknowledgments(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          // CDK stores acknowledgments of plugin rules under the Annotation:: namespace.
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}
