import { redact as redactWebhook } from '../redact.ts';
import type { LogLevel } from './env.ts';

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 };

/** Keys whose values are never written, whatever they hold. */
const SECRET_KEY = /webhook|secret|token|password|authorization|auth_?key|credential/i;
/** A Bitrix24 inbound webhook path (/rest/<user>/<token>/) or any URL with user info. */

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where JSON lines go (stdout in Lambda, captured by CloudWatch). */
  write?: (line: string) => void;
  /** Keys added to every line (runId…). */
  keys?: Record<string, unknown>;
  clock?: () => Date;
}

/**
 * A Powertools-style structured logger: one JSON line per event with level, message, service, timestamp and
 * the persistent keys (runId). Secrets are removed at write time, whatever the caller passed.
 *
 * @example
 * const log = createLogger({ service: 'b24-lead-import', level: 'INFO' }).child({ runId });
 * log.info('chunk done', { rows: 1200, offset: 52311 });
 */
export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  child(keys: Record<string, unknown>): Logger;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = RANK[options.level ?? 'INFO'];
  const write = options.write ?? ((line: string) => void process.stdout.write(line + '\n'));
  const clock = options.clock ?? (() => new Date());
  const emit = (level: Exclude<LogLevel, 'SILENT'>, message: string, extra?: Record<string, unknown>) => {
    if (RANK[level] < threshold) return;
    const entry = {
      level,
      message: redactText(message),
      service: options.service,
      timestamp: clock().toISOString(),
      ...(redact(options.keys ?? {}) as Record<string, unknown>),
      ...(extra ? (redact(extra) as Record<string, unknown>) : {}),
    };
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, e) => emit('DEBUG', m, e),
    info: (m, e) => emit('INFO', m, e),
    warn: (m, e) => emit('WARN', m, e),
    error: (m, e) => emit('ERROR', m, e),
    child: (keys) => createLogger({ ...options, keys: { ...options.keys, ...keys } }),
  };
}

/** An error as loggable data: name, code, message (redacted), no stack of secrets. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { error: { name: err.name, ...(typeof code === 'string' ? { code } : {}), message: redactText(err.message) } };
  }
  return { error: { message: redactText(String(err)) } };
}

export function redactText(text: string): string {
  return redactWebhook(text);
}

/** Deep copy with secret keys dropped and webhook URLs masked (depth-bounded: logs stay small). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return errorFields(value).error;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redact(v, depth + 1);
  return out;
}
