import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';
import { redact as redactWebhook } from '../redact.ts';
import type { LogLevel } from './env.ts';

/** Keys whose values are never written, whatever they hold. */
const SECRET_KEY = /webhook|secret|token|password|authorization|auth_?key|credential/i;

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where JSON lines go; default Powertools' own console (stdout in Lambda, captured by CloudWatch). */
  write?: (line: string) => void;
  /** Keys added to every line (runId…). */
  keys?: Record<string, unknown>;
  clock?: () => Date;
}

/**
 * A structured logger: one JSON line per event with level, message, service, timestamp and the persistent keys
 * (runId), plus the Lambda request id and cold start when the handler gave it its context. Secrets are removed at
 * write time, whatever the caller passed.
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

/** The Logger the Lambda entry points hold: it also takes each invocation's context (request id, cold start). */
export interface LambdaLogger extends Logger {
  addContext(context: Context): void;
}

/**
 * Our log line on Powertools: redaction is the formatter (messages, every extra and persistent key, errors with
 * their stack), so no code path reaches the output without it; the JSON replacer masks strings once more.
 */
class RedactingFormatter extends LogFormatter {
  readonly #clock: (() => Date) | undefined;

  constructor(clock?: () => Date) {
    super();
    this.#clock = clock;
  }

  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const ctx = attributes.lambdaContext;
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: redactText(attributes.message),
      service: attributes.serviceName,
      timestamp: (this.#clock?.() ?? attributes.timestamp).toISOString(),
      ...(ctx ? { function_request_id: ctx.awsRequestId, cold_start: ctx.coldStart, function_name: ctx.functionName } : {}),
      ...(attributes.xRayTraceId ? { xray_trace_id: attributes.xRayTraceId } : {}),
    };
    return new LogItem({ attributes: base }).addAttributes(redact(additional) as LogAttributes);
  }

  override formatError(error: Error): LogAttributes {
    return errorFields(error).error as LogAttributes;
  }
}

/** Powertools' Logger writing to a given line sink (tests, the local flow) instead of its console. */
class SinkLogger extends PowertoolsLogger {
  readonly #write: ((line: string) => void) | undefined;

  constructor(options: ConstructorParameters<typeof PowertoolsLogger>[0], write?: (line: string) => void) {
    super(options);
    this.#write = write;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    if (!this.#write) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.#write(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(options?: ConstructorParameters<typeof PowertoolsLogger>[0]): PowertoolsLogger {
    return new SinkLogger(options, this.#write);
  }
}

const replacer = (key: string, value: unknown): unknown => {
  if (key !== '' && SECRET_KEY.test(key)) return '***';
  return typeof value === 'string' ? redactText(value) : value;
};

export function createLogger(options: LoggerOptions): LambdaLogger {
  const powertools = new SinkLogger(
    {
      serviceName: options.service,
      logLevel: options.level ?? 'INFO',
      logFormatter: new RedactingFormatter(options.clock),
      jsonReplacerFn: replacer,
      ...(options.keys ? { persistentKeys: options.keys } : {}),
    },
    options.write,
  );
  return wrap(powertools);
}

function wrap(powertools: PowertoolsLogger): LambdaLogger {
  const extra = (e?: Record<string, unknown>) => (e ? [e] : []);
  return {
    debug: (m, e) => powertools.debug(m, ...extra(e)),
    info: (m, e) => powertools.info(m, ...extra(e)),
    warn: (m, e) => powertools.warn(m, ...extra(e)),
    error: (m, e) => powertools.error(m, ...extra(e)),
    // Persistent keys (runId): on every line of the child, the parent's Lambda context carried over.
    child: (keys) => wrap(powertools.createChild({ persistentKeys: keys })),
    addContext: (context) => powertools.addContext(context),
  };
}

/** An error as loggable data: name, code, message and stack, secrets masked in both. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      error: {
        name: err.name,
        ...(typeof code === 'string' ? { code } : {}),
        message: redactText(err.message),
        ...(err.stack ? { stack: redactText(err.stack) } : {}),
      },
    };
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
