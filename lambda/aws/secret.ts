import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from '../errors.ts';

/** The narrow Secrets Manager edge: one secret's string value. */
export type SecretReader = (secretId: string) => Promise<string | undefined>;

let defaultClient: SecretsManagerClient | undefined;
const defaultReader: SecretReader = async (secretId) => {
  defaultClient ??= new SecretsManagerClient({});
  const res = await defaultClient.send(new GetSecretValueCommand({ SecretId: secretId }));
  return res.SecretString;
};

/**
 * Per container: warm invocations reuse a secret's parsed value for `maxAgeMs` instead of calling Secrets
 * Manager each chunk or run; after that (or when asked for a fresh read) it is read again, so a rotated webhook
 * or signing key reaches a warm container without a redeploy. One entry per secret id (each secret has one shape:
 * a reader asking with another parser reads again).
 */
const cache = new Map<string, { pending: Promise<unknown>; at: number; parse: unknown }>();

/** How long a read value is used before Secrets Manager is asked again. */
export const SECRET_MAX_AGE_MS = 5 * 60_000;

export interface SecretReadOptions {
  /** Read again whatever the cache holds (the portal refused the cached webhook). */
  fresh?: boolean;
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * One secret's value, read through the cache and parsed by `parse` (whose errors must name the secret, never
 * its value). A failed read or parse is not kept: the next call tries again.
 */
export function cachedSecret<T>(
  secretId: string,
  parse: (secretId: string, value: string | undefined) => T,
  read: SecretReader = defaultReader,
  options: SecretReadOptions = {},
): Promise<T> {
  const now = (options.now ?? Date.now)();
  const cached = cache.get(secretId);
  if (cached && cached.parse === parse && !options.fresh && now - cached.at < (options.maxAgeMs ?? SECRET_MAX_AGE_MS)) {
    return cached.pending as Promise<T>;
  }
  const pending = read(secretId).then((value) => parse(secretId, value));
  const entry = { pending, at: now, parse };
  pending.catch(() => {
    if (cache.get(secretId) === entry) cache.delete(secretId);
  });
  cache.set(secretId, entry);
  return pending;
}

/**
 * The portal webhook URL stored in the secret: either the URL itself or JSON `{ "webhookUrl": "…" }`.
 * Errors name the secret, never its value.
 *
 * @example
 * const url = await webhookUrl(process.env.WEBHOOK_SECRET_ARN!);
 */
export function webhookUrl(secretId: string, read: SecretReader = defaultReader, options: SecretReadOptions = {}): Promise<string> {
  return cachedSecret(secretId, extractUrl, read, options);
}

/** Forget cached values (tests). */
export function clearSecretCache(): void {
  cache.clear();
}

function extractUrl(secretId: string, value: string | undefined): string {
  const text = value?.trim() ?? '';
  let url = text;
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      const found = json.webhookUrl ?? json.url ?? json.WEBHOOK_URL;
      url = typeof found === 'string' ? found.trim() : '';
    } catch {
      url = '';
    }
  }
  if (!/^https?:\/\//i.test(url)) {
    throw new ConfigurationError(`secret ${secretId} does not hold a webhook URL (expected the URL or {"webhookUrl": "…"})`);
  }
  return url;
}
