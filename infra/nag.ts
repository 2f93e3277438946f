import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 acknowledgments (CDK's `Validations.of(scope).acknowledge`): each finding is named exactly,
 * e.g. `AwsSolutions-IAM5[Resource::<BucketX.Arn>/parts/*]`, so a new wildcard is never silently covered.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
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
