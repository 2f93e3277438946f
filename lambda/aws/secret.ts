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
 * Per container: warm invocations reuse the value for `maxAgeMs` instead of calling Secrets Manager each chunk;
 * after that (or when asked for a fresh read) it is read again, so a rotated webhook reaches a warm container
 * without a redeploy.
 */
const cache = new Map<string, { pending: Promise<string>; at: number }>();

/** How long a read value is used before Secrets Manager is asked again. */
export const SECRET_MAX_AGE_MS = 5 * 60_000;

export interface SecretReadOptions {
  /** Read again whatever the cache holds (the portal refused the cached webhook). */
  fresh?: boolean;
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * The portal webhook URL stored in the secret: either the URL itself or JSON `{ "webhookUrl": "…" }`.
 * Errors name the secret, never its value.
 *
 * @example
 * const url = await webhookUrl(process.env.WEBHOOK_SECRET_ARN!);
 */
export function webhookUrl(secretId: string, read: SecretReader = defaultReader, options: SecretReadOptions = {}): Promise<string> {
  const now = (options.now ?? Date.now)();
  const cached = cache.get(secretId);
  if (cached && !options.fresh && now - cached.at < (options.maxAgeMs ?? SECRET_MAX_AGE_MS)) return cached.pending;
  const pending = read(secretId).then((value) => extractUrl(secretId, value));
  const entry = { pending, at: now };
  // A failed fetch must not stick: the next invocation tries again.
  pending.catch(() => {
    if (cache.get(secretId) === entry) cache.delete(secretId);
  });
  cache.set(secretId, entry);
  return pending;
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
