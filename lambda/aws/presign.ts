import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigurationError } from '../errors.ts';
import { errorFields, type Logger } from './log.ts';
import { cachedSecret, type SecretReader } from './secret.ts';

/** SigV4's longest validity for a pre-signed URL. */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

export interface SignedLink {
  url: string;
  /** When the link stops working: 7 days, or sooner when the signing credentials expire first. */
  expiresAt: Date;
  /**
   * Signed with temporary credentials whose end is not known (a session token without an expiration, as Lambda
   * hands its role's credentials in AWS_* variables): the link dies with that session, maybe before expiresAt.
   */
  sessionBound: boolean;
}

/**
 * How long a link signed now may be valid: SigV4's 7 days, cut to the signing credentials' own end less a
 * minute (S3: a URL signed with temporary credentials stops working when they expire, whatever it asks for).
 */
export function linkLifetime(
  identity: { sessionToken?: string; expiration?: Date },
  now: Date,
): { seconds: number; sessionBound: boolean } {
  if (!identity.expiration) return { seconds: MAX_LINK_SECONDS, sessionBound: Boolean(identity.sessionToken) };
  const left = Math.floor((identity.expiration.getTime() - now.getTime()) / 1000) - 60;
  return { seconds: Math.max(1, Math.min(MAX_LINK_SECONDS, left)), sessionBound: false };
}

interface HttpRequestLike {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

type Presigner = { presign(request: HttpRequestLike, options: Record<string, unknown>): Promise<HttpRequestLike> };

/**
 * A pre-signed GET of one object, signed by the S3 client's own SigV4 signer (what
 * @aws-sdk/s3-request-presigner does, without the package): the command runs through the client's middleware
 * up to signing, then is pre-signed instead of sent. Signed with a role's temporary credentials (Lambda), the URL
 * works only until that session's credentials expire, whatever X-Amz-Expires says: the validity is the shorter
 * of the two (linkLifetime), `expiresAt` says when, and `sessionBound` that the session's end is unknown.
 */
export async function presignGet(s3: S3Client, bucket: string, key: string, now = new Date()): Promise<SignedLink> {
  const { seconds: expiresIn, sessionBound } = linkLifetime(await s3.config.credentials(), now);
  const command = new GetObjectCommand({ Bucket: bucket, Key: key });
  const stack = s3.middlewareStack.clone();
  const intercept =
    (_next: unknown, context: Record<string, unknown>) =>
    async (args: { request: unknown }): Promise<{ response: object; output: { $metadata: object; presigned: HttpRequestLike } }> => {
      const request = args.request as HttpRequestLike;
      for (const h of ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent']) delete request.headers[h];
      request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      request.headers.host = `${request.hostname}${request.port != null ? `:${request.port}` : ''}`;
      const signer = (await (s3.config.signer as unknown as () => Promise<Presigner>)()) as Presigner;
      const presigned = await signer.presign(request, {
        expiresIn,
        signingDate: now,
        unsignableHeaders: new Set(['content-type']),
        ...(context.signing_region ? { signingRegion: context.signing_region } : {}),
        ...(context.signing_service ? { signingService: context.signing_service } : {}),
      });
      return { response: {}, output: { $metadata: {}, presigned } };
    };
  stack.addRelativeTo(intercept as never, {
    name: 'presignIntercept',
    relation: 'before',
    toMiddleware: 'awsAuthMiddleware',
    override: true,
  });
  const handler = command.resolveMiddleware(stack as never, s3.config, {});
  const { output } = (await handler({ input: command.input })) as unknown as { output: { presigned: HttpRequestLike } };
  return { url: formatUrl(output.presigned), expiresAt: new Date(now.getTime() + expiresIn * 1000), sessionBound };
}

/** RFC 3986 escaping, as SigV4 canonicalises the query (encodeURIComponent leaves !'()* alone). */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function formatUrl(r: HttpRequestLike): string {
  const query = Object.entries(r.query ?? {})
    .flatMap(([k, v]) => (v === null ? [rfc3986(k)] : (Array.isArray(v) ? v : [v]).map((x) => `${rfc3986(k)}=${rfc3986(x)}`)))
    .join('&');
  const port = r.port != null ? `:${r.port}` : '';
  return `${r.protocol}//${r.hostname}${port}${r.path}${query ? `?${query}` : ''}`;
}

/**
 * The link signer's long-term access key, as infra/linkSigner.ts stores it in its secret. SigV4 URLs last their
 * 7 days only when signed with an IAM user's long-term key: one signed with temporary credentials (a role's)
 * stops working when they expire, whatever it asks for.
 */
export interface SignerKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The signer secret's JSON `{ "accessKeyId": "…", "secretAccessKey": "…" }`. Errors name the secret, never its value. */
export function parseSignerKey(secretId: string, value: string | undefined): SignerKey {
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    // Not rethrown: JSON.parse's message quotes the text it read.
    json = undefined;
  }
  const { accessKeyId, secretAccessKey } = (json ?? {}) as Record<string, unknown>;
  if (
    typeof accessKeyId !== 'string' ||
    !/^[A-Z0-9]{16,128}$/.test(accessKeyId) ||
    typeof secretAccessKey !== 'string' ||
    !secretAccessKey
  ) {
    throw new ConfigurationError(`secret ${secretId} does not hold an access key (expected {"accessKeyId": "…", "secretAccessKey": "…"})`);
  }
  return { accessKeyId, secretAccessKey };
}

export interface KeyedSignerOptions {
  /** The role's client: it signs when no key is configured or the key cannot be read. */
  s3: S3Client;
  /** The secret holding the signer's key (LINK_SIGNER_SECRET_ARN); unset = the role signs. */
  secretArn?: string;
  read?: SecretReader;
  now?: () => Date;
}

/** Signs one object's GET for the run's message. */
export type ObjectSigner = (bucket: string, key: string) => Promise<SignedLink>;

/**
 * The run's link signer, resolved once per run: with a signer secret, a client on its long-term key (links valid
 * 7 days); when that secret cannot be read, the role's client as before (links end with its session), and one
 * WARN naming the secret, never its value. The key is read through the secret cache (a rotated key arrives
 * within SECRET_MAX_AGE_MS); its client is kept while the key stays the same.
 */
export function keyedLinkSigner(options: KeyedSignerOptions): (log: Logger) => Promise<ObjectSigner> {
  let keyed: { key: SignerKey; client: S3Client } | undefined;
  const clientOf = (key: SignerKey): S3Client => {
    if (keyed?.key.accessKeyId !== key.accessKeyId || keyed.key.secretAccessKey !== key.secretAccessKey) {
      keyed = { key, client: clientWithKey(options.s3, key) };
    }
    return keyed.client;
  };
  return async (log) => {
    let client = options.s3;
    if (options.secretArn) {
      try {
        client = clientOf(await cachedSecret(options.secretArn, parseSignerKey, options.read));
      } catch (err) {
        log.warn("could not read the link signer's key; the role signs the links, they end with its session", {
          signerKeyArn: options.secretArn,
          ...errorFields(err),
        });
      }
    }
    return (bucket, key) => presignGet(client, bucket, key, options.now?.() ?? new Date());
  };
}

/** A client like `s3` (region, endpoint, addressing) that signs with `key` instead of the role's credentials. */
function clientWithKey(s3: S3Client, key: SignerKey): S3Client {
  const { region, forcePathStyle, isCustomEndpoint, endpoint } = s3.config as typeof s3.config & { isCustomEndpoint?: boolean };
  return new S3Client({
    region,
    forcePathStyle,
    ...(isCustomEndpoint && endpoint ? { endpoint } : {}),
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  });
}
