import { Aspects, type CfnElement, Duration, type IAspect, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { UNDO_INPUTS } from '../lambda/run/keys.ts';

/**
 * Key prefixes the importer uses; IAM grants and lifecycle rules are scoped to them. undo/: the inputs start
 * writes for `{ "undo": … }` (lead data, like a source; outside incoming/, so writing one starts no run).
 */
export const PREFIX = { incoming: 'incoming/', parts: 'parts/', reports: 'reports/', undo: UNDO_INPUTS } as const;

export interface StorageProps {
  /** Existing bucket name: imported as is (its encryption, versioning and lifecycle are not changed). */
  bucketName?: string;
  reportRetentionDays: number;
  partsRetentionDays: number;
  noncurrentVersionDays: number;
  /** Expiry of a source under incoming/ (and of an undo's input under undo/) after its upload: lead data does not live on for ever. */
  incomingRetentionDays: number;
  /** Expiry of a replaced or deleted source version (and undo input version). */
  incomingNoncurrentDays: number;
  /** SSE-KMS with a customer managed key created here, instead of SSE-S3. */
  kmsKey?: boolean;
}

/** Deleted parts and expired reports are garbage: their old versions go after a day, not after 30. */
export const OUTPUT_NONCURRENT_DAYS = 1;

/**
 * The import bucket: incoming/ (sources), parts/ (temporary chunk report parts), reports/ (results).
 * When created here: SSE-S3, public access blocked, TLS only, versioned (a re-upload is a new version and a
 * new run), lifecycle for reports and parts, server access logs into a separate bucket (log delivery is granted
 * by bucket policy, not the legacy LogDeliveryWrite ACL, so ACLs stay disabled: cdk.json's
 * @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy).
 */
export class Storage extends Construct {
  readonly bucket: s3.IBucket;
  /** True when the bucket was imported by name. */
  readonly imported: boolean;
  /** The customer managed key of the bucket (kmsKey=true). */
  readonly key?: kms.Key;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.imported = props.bucketName !== undefined;
    if (props.bucketName !== undefined) {
      this.bucket = s3.Bucket.fromBucketName(this, 'Bucket', props.bucketName);
      return;
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Log delivery writes with SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket itself; logging it into itself would loop.',
    });

    const key = props.kmsKey
      ? new kms.Key(this, 'Key', {
          description: 'b24-lead-import: the import bucket (lead data)',
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.RETAIN,
        })
      : undefined;
    this.key = key;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'import-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      // Overlapping rules: an old version under a prefix is eligible under its prefix rule first (the shorter).
      lifecycleRules: [
        {
          id: 'expire-sources',
          prefix: PREFIX.incoming,
          expiration: Duration.days(props.incomingRetentionDays),
          noncurrentVersionExpiration: Duration.days(props.incomingNoncurrentDays),
        },
        {
          // An undo's input holds the leads' old and new values, as a source does: it goes as sources go.
          id: 'expire-undo-inputs',
          prefix: PREFIX.undo,
          expiration: Duration.days(props.incomingRetentionDays),
          noncurrentVersionExpiration: Duration.days(props.incomingNoncurrentDays),
        },
        {
          id: 'expire-reports',
          prefix: PREFIX.reports,
          expiration: Duration.days(props.reportRetentionDays),
          noncurrentVersionExpiration: Duration.days(OUTPUT_NONCURRENT_DAYS),
        },
        {
          id: 'expire-leftover-parts',
          prefix: PREFIX.parts,
          expiration: Duration.days(props.partsRetentionDays),
          noncurrentVersionExpiration: Duration.days(OUTPUT_NONCURRENT_DAYS),
        },
        {
          id: 'abort-multipart-and-expire-old-versions',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    if (key) Aspects.of(Stack.of(this)).add(new KeyGrants(this.bucket, key));
  }

  /** ARN pattern for the objects under one prefix. */
  objects(prefix: (typeof PREFIX)[keyof typeof PREFIX]): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }

  /** ARN pattern for one file (e.g. summary.json) of every run's report folder under reports/, and no other report file. */
  runFiles(file: string): string {
    return this.bucket.arnForObjects(`${PREFIX.reports}*/${file}`);
  }
}

/** Statement ids whose S3 access needs no key: HeadObject reads metadata only (start pins the source with it). */
const HEAD_ONLY_SIDS = new Set(['HeadSources']);

const READS = new Set(['s3:GetObject', 's3:GetObjectVersion']);
const WRITES = new Set(['s3:PutObject']);

/**
 * The key's grants follow the S3 grants, so none can be forgotten and none goes further: a role whose policy
 * may read objects of the bucket may decrypt (kms:Decrypt); one that may write them may also make data keys
 * (kms:GenerateDataKey; multipart uploads decrypt their own parts). Roles with no object access (the state
 * machine's) get nothing. Runs at synthesis, after every grant of the stack was made.
 */
class KeyGrants implements IAspect {
  private readonly done = new WeakSet<IConstruct>();

  constructor(
    private readonly bucket: s3.IBucket,
    private readonly key: kms.IKey,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof iam.Policy) || this.done.has(node)) return;
    this.done.add(node);
    const stack = Stack.of(node);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    const doc = stack.resolve(node.document) as { Statement?: Array<{ Sid?: string; Action: unknown; Resource: unknown }> };
    const actions = new Set<string>();
    for (const st of doc.Statement ?? []) {
      if (st.Sid !== undefined && HEAD_ONLY_SIDS.has(st.Sid)) continue;
      const resource = JSON.stringify(st.Resource);
      // Object ARNs of this bucket: its Arn joined with a key pattern.
      if (!resource.includes(`"${bucketId}"`) || !resource.includes('/')) continue;
      const granted = (Array.isArray(st.Action) ? st.Action : [st.Action]) as string[];
      if (granted.some((a) => READS.has(a) || WRITES.has(a))) actions.add('kms:Decrypt');
      if (granted.some((a) => WRITES.has(a))) actions.add('kms:GenerateDataKey');
    }
    if (actions.size > 0) node.addStatements(new iam.PolicyStatement({ actions: [...actions].sort(), resources: [this.key.keyArn] }));
  }
}
