import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** cdk-nag's finding for a statement on `*`: it names no action, so acknowledging it alone covers any action. */
export const WILDCARD_RESOURCE_FINDING = 'AwsSolutions-IAM5[Resource::*]';

/**
 * The only actions a statement on `*` may hold: those that support no resource-level permissions and that the
 * stack needs — Step Functions' CloudWatch Logs delivery and X-Ray (functions and state machine).
 */
export const WILDCARD_RESOURCE_ACTIONS: readonly string[] = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

/**
 * cdk-nag 3 acknowledgments (CDK's `Validations.of(scope).acknowledge`): each finding is named exactly,
 * e.g. `AwsSolutions-IAM5[Resource::<BucketX.Arn>/parts/*]`, so a new wildcard is never silently covered.
 * `AwsSolutions-IAM5[Resource::*]` names no action, so acknowledging it also keys it by action: synthesis fails
 * when a role under `scope` gets any action on `*` outside WILDCARD_RESOURCE_ACTIONS (or `actions`, when given).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string, actions?: readonly string[]): void {
  Validations.of(scope).acknowledge({ id, reason });
  if (id === WILDCARD_RESOURCE_FINDING) guardWildcardResource(scope, actions ?? WILDCARD_RESOURCE_ACTIONS);
}

/** The acknowledgment of `*` resources for exactly these actions (a narrower allow-list than the default). */
export function acknowledgeWildcardResource(scope: IConstruct, actions: readonly string[], reason: string): void {
  acknowledge(scope, WILDCARD_RESOURCE_FINDING, reason, actions);
}

/**
 * At synthesis, every Allow statement on `*` of every policy attached to a role under `scope` may hold only
 * `allowed` actions; anything else is a validation error naming the role and the actions.
 */
function guardWildcardResource(scope: IConstruct, allowed: readonly string[]): void {
  scope.node.addValidation({
    validate: () => {
      const stack = Stack.of(scope);
      const roles = new Set(
        scope.node
          .findAll()
          .filter((c): c is iam.CfnRole => c instanceof iam.CfnRole)
          .map((r) => stack.getLogicalId(r as CfnElement)),
      );
      const errors: string[] = [];
      for (const policy of stack.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy)) {
        const attached = (stack.resolve(policy.roles) as unknown[] | undefined) ?? [];
        if (!attached.some((r) => roles.has((r as { Ref?: string }).Ref ?? ''))) continue;
        const doc = stack.resolve(policy.policyDocument) as { Statement?: Array<{ Effect: string; Action: unknown; Resource: unknown }> };
        for (const st of doc.Statement ?? []) {
          const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
          if (st.Effect !== 'Allow' || !resources.includes('*')) continue;
          const actions = (Array.isArray(st.Action) ? st.Action : [st.Action]) as string[];
          const extra = actions.filter((a) => !allowed.includes(a));
          if (extra.length > 0) {
            errors.push(`${scope.node.path}: ${extra.join(', ')} on "*" is outside the acknowledged ${WILDCARD_RESOURCE_FINDING} actions`);
          }
        }
      }
      return errors;
    },
  });
}

/** The AwsSolutions-IAM5 finding id cdk-nag reports for a wildcard resource (an ARN that may hold tokens). */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${renderCfn(Stack.of(scope).resolve(arn))}]`;
}

/** Renders resolved CloudFormation the way cdk-nag prints it: Ref → <Id>, GetAtt → <Id.Attr>, Join → joined. */
export function renderCfn(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(renderCfn).join(sep);
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)} as a cdk-nag finding`);
}
