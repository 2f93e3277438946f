import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Key prefixes the importer uses; IAM grants and lifecycle rules are scoped to them. */
export const PREFIX = { incoming: 'incoming/', parts: 'parts/', reports: 'reports/' } as const;

export interface StorageProps {
  /** Existing bucket name: imported as is (its encryption, versioning and lifecycle are not changed). */
  bucketName?: string;
  reportRetentionDays: number;
  partsRetentionDays: number;
  noncurrentVersionDays: number;
}

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

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'import-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-reports',
          prefix: PREFIX.reports,
          expiration: Duration.days(props.reportRetentionDays),
        },
        {
          id: 'expire-leftover-parts',
          prefix: PREFIX.parts,
          expiration: Duration.days(props.partsRetentionDays),
        },
        {
          id: 'abort-multipart-and-expire-old-versions',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
  }

  /** ARN pattern for the objects under one prefix. */
  objects(prefix: (typeof PREFIX)[keyof typeof PREFIX]): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }
}
