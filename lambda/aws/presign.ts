import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

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
