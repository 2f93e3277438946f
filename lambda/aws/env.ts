import { z } from 'zod';
import type { RunOptionsInput } from '../config.ts';
import { DEFAULT_MAX_IDLE_CHUNKS } from '../run/stallGuard.ts';
import { ConfigurationError } from '../errors.ts';

/** A positive number from an environment string; unset or empty means "use the default". */
const num = z.preprocess((v) => (v === undefined || v === '' ? undefined : Number(v)), z.number().positive().optional());

/** A whole number ≥ 0 from an environment string (0 is meaningful); unset or empty means "use the default". */
const whole = z.preprocess((v) => (v === undefined || v === '' ? undefined : Number(v)), z.number().int().nonnegative().optional());

const LogLevel = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']);
export type LogLevel = z.infer<typeof LogLevel>;

const Common = z.object({
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default('b24-lead-import'),
  /** The CloudWatch namespace of the run's metrics (the stack sets its name); unset = no metrics (local runs). */
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).optional(),
  LOG_LEVEL: z.preprocess((v) => (typeof v === 'string' && v !== '' ? v.toUpperCase() : undefined), LogLevel.default('INFO')),
  PORTAL_RATE: num,
  PORTAL_BURST: num,
  OPERATING_LIMIT: num,
  OPERATING_WINDOW: num,
  /** How long a run waits out an unreachable portal before it halts, ms (run option outageWaitMs; default 6 h). */
  OUTAGE_WAIT_MS: whole,
});

const bool = z
  .preprocess((v) => (v === undefined || v === '' ? undefined : String(v).toLowerCase()), z.enum(['true', 'false']).default('false'))
  .transform((v) => v === 'true');

export const StartEnvSchema = Common.extend({
  STATE_MACHINE_ARN: z.string().min(1),
  /** Runs started by S3 events are dry runs (a shadow deployment, or no portal yet); a manual payload cannot undo it. */
  DRY_RUN: bool,
  /** The deployment's bucket: a manual payload naming another is refused (lambda/aws/overrides.ts). */
  BUCKET: z.string().min(1).optional(),
});
export const ChunkEnvSchema = Common.extend({
  /** Optional: without it only dry runs are possible (no portal). */
  WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
  BUCKET: z.string().min(1).optional(),
  /** The longest a chunk works, ms (the Lambda's remaining time minus a margin caps it further). */
  CHUNK_BUDGET_MS: num.transform((v) => v ?? 10 * 60_000),
  /** Kept free at the end of the invocation for writing the report part and returning. */
  CHUNK_MARGIN_MS: num.transform((v) => v ?? 30_000),
  /** Chunks in a row that finish no row before the run halts with NO_PROGRESS (lambda/run/drive.ts progressGuard). */
  MAX_IDLE_CHUNKS: num.pipe(z.number().int().optional()).transform((v) => v ?? DEFAULT_MAX_IDLE_CHUNKS),
});
export const FinalizeEnvSchema = Common.extend({
  BUCKET: z.string().min(1).optional(),
  /** The SNS topic finalize mails each run's message to (the stack sets it with notifyEmail only). */
  NOTIFY_TOPIC_ARN: z.string().startsWith('arn:').optional(),
  /** The secret holding the link signer's access key (the stack sets it with sevenDayLinks only): 7-day links. */
  LINK_SIGNER_SECRET_ARN: z.string().startsWith('arn:').optional(),
});

export type StartEnv = z.infer<typeof StartEnvSchema>;
export type ChunkEnv = z.infer<typeof ChunkEnvSchema>;
export type FinalizeEnv = z.infer<typeof FinalizeEnvSchema>;

type Env = Record<string, string | undefined>;

/** Reads and validates a handler's environment once at the edge; a bad value fails loudly naming the variable. */
export function readEnv<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`invalid Lambda environment: ${issues}`);
  }
  return parsed.data;
}

/**
 * Run option defaults the deployment sets (portal plan limits, the outage wait); a manual payload's `options` may
 * only tighten them (overrides.ts).
 */
export function envOptionDefaults(env: z.infer<typeof Common> & { DRY_RUN?: boolean }): RunOptionsInput {
  const limits: Record<string, number> = {};
  if (env.PORTAL_RATE !== undefined) limits.rate = env.PORTAL_RATE;
  if (env.PORTAL_BURST !== undefined) limits.burst = Math.floor(env.PORTAL_BURST);
  if (env.OPERATING_LIMIT !== undefined) limits.operatingLimit = env.OPERATING_LIMIT;
  if (env.OPERATING_WINDOW !== undefined) limits.operatingWindow = env.OPERATING_WINDOW;
  return {
    ...(env.DRY_RUN ? { dryRun: true } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(env.OUTAGE_WAIT_MS !== undefined ? { outageWaitMs: env.OUTAGE_WAIT_MS } : {}),
  };
}

/**
 * When the chunk must stop starting work: the smaller of the configured budget and the invocation's
 * remaining time minus the margin (never negative, so a late start still checkpoints instead of hanging).
 */
export function chunkDeadline(now: number, remainingMs: number, env: Pick<ChunkEnv, 'CHUNK_BUDGET_MS' | 'CHUNK_MARGIN_MS'>): number {
  return now + Math.max(0, Math.min(env.CHUNK_BUDGET_MS, remainingMs - env.CHUNK_MARGIN_MS));
}
