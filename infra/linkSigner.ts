import { SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { PREFIX } from './storage.ts';

/** The env var naming the signer's secret on the signing function (lambda/aws/env.ts FinalizeEnvSchema). */
export const LINK_SIGNER_ENV = 'LINK_SIGNER_SECRET_ARN';

export interface LinkSignerProps {
  /** The import bucket: the user may read its reports/ objects, nothing else. */
  bucket: s3.IBucket;
  /** The function that signs the run's links (the stack's finalize): the only reader of the key. */
  signer: lambda.Function;
  /** The bucket's customer managed key, when SSE-KMS; default the bucket's own `encryptionKey`. */
  bucketKey?: kms.IKey;
  /** Change to replace the access key (rotation): the next deploy makes a new key and deletes the old one. */
  serial?: number;
}

/**
 * Pre-signed links that really last 7 days: S3 honours SigV4's 7 days only for a URL signed with an IAM user's
 * long-term access key; one signed with a role's temporary credentials dies with that session (hours). So: an
 * IAM user whose only right is s3:GetObject on reports/* (and kms:Decrypt on the bucket's key, named exactly,
 * when SSE-KMS), in a group that holds that policy (no policy on the user itself), its access key in a Secrets
 * Manager secret that only the signing function's role may read, the secret's ARN in LINK_SIGNER_SECRET_ARN.
 *
 * The trade-off: a long-lived key to the run reports (lead data) that is not bound to a session; a link shared
 * on reads what it names for 7 days, and the key reads every report until it is replaced (`serial`) or deleted.
 */
export class LinkSigner extends Construct {
  readonly user: iam.User;
  readonly group: iam.Group;
  readonly accessKey: iam.AccessKey;
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: LinkSignerProps) {
    super(scope, id);
    const reports = props.bucket.arnForObjects(`${PREFIX.reports}*`);
    this.group = new iam.Group(this, 'Group');
    this.group.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SignReportLinks',
        actions: ['s3:GetObject'],
        resources: [reports],
        // Only as pre-signed URLs (query-string auth): the key is not a general S3 login.
        conditions: { StringEquals: { 's3:authType': 'REST-QUERY-STRING' } },
      }),
    );
    const key = props.bucketKey ?? props.bucket.encryptionKey;
    // S3 decrypts an SSE-KMS object as the requester: the link's signer needs the key's Decrypt.
    if (key) this.group.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
    this.user = new iam.User(this, 'User', { groups: [this.group] });
    this.accessKey = new iam.AccessKey(this, 'AccessKey', {
      user: this.user,
      ...(props.serial !== undefined ? { serial: props.serial } : {}),
    });
    this.secret = new secretsmanager.Secret(this, 'Key', {
      description: 'b24-lead-import: the access key that signs the run-end links (7 days); read by finalize only',
      secretObjectValue: {
        accessKeyId: SecretValue.unsafePlainText(this.accessKey.accessKeyId),
        secretAccessKey: this.accessKey.secretAccessKey,
      },
    });
    this.grantTo(props.signer);
    acknowledge(
      this.group,
      wildcardResourceFinding(this, reports),
      'Reading one key prefix, reports/ (the run reports the links point at), as pre-signed URLs only.',
    );
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'An IAM access key has no Secrets Manager rotation of its own: it is replaced by a deploy with a new LinkSigner serial.',
    );
  }

  /** The signing role reads the secret (identity policy), and the secret's policy refuses its value to anyone else. */
  private grantTo(signer: lambda.Function): void {
    const role = signer.role;
    if (!role) throw new Error('LinkSigner: the signing function needs a role');
    this.secret.grantRead(role);
    this.secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheSigner',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );
    signer.addEnvironment(LINK_SIGNER_ENV, this.secret.secretArn);
  }
}
