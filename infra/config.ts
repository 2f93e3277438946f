import { z } from 'zod';
import { PLAN_PRESETS, PortalLimitsSchema } from '../lambda/config.ts';
import { DEFAULT_MAX_IDLE_CHUNKS } from '../lambda/run/stallGuard.ts';

/**
 * Deploy-time parameters of the stack, read once from CDK context (`-c key=value`, cdk.json) or passed as props.
 * Context values arrive as strings from the command line, so numbers and booleans are coerced here.
 * Portal limit defaults come from `lambda/config.ts` (defaults live there and nowhere else).
 *
 * @example
 * npx cdk deploy -c webhookSecretName=b24-lead-import/webhook -c plan=enterprise -c memoryMb=1536
 */
const portalDefaults = PortalLimitsSchema.parse({});

const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const DeployConfigSchema = z.object({
  /** Secrets Manager secret NAME holding the Bitrix24 webhook URL. Only the name ever enters the template. */
  webhookSecretName: z
    .string()
    .regex(/^[\w/+=.@-]{1,512}$/, 'not a valid secret name')
    .default('b24-lead-import/webhook'),
  /** Plan preset ('standard' | 'enterprise') for rate/burst; explicit portalRate/portalBurst win over it. */
  plan: z.enum(Object.keys(PLAN_PRESETS) as [string, ...string[]]).optional(),
  /** Leaky bucket drain, requests per second. */
  portalRate: z.coerce.number().positive().optional(),
  /** Leaky bucket size. */
  portalBurst: z.coerce.number().int().positive().optional(),
  /** Operating-time budget per method, seconds, within operatingWindow. */
  operatingLimit: z.coerce.number().positive().default(portalDefaults.operatingLimit),
  operatingWindow: z.coerce.number().positive().default(portalDefaults.operatingWindow),
  /** Memory of the worker (chunk) and finalize functions, MB. */
  memoryMb: int(128, 10240).default(1024),
  /**
   * Reserved concurrency of the worker: 1 makes imports into one portal take turns under its rate limit.
   * 0 = no reservation (for accounts whose concurrency quota is still 10, where Lambda refuses any reservation);
   * concurrent runs then each spend the full rate, so upload one file at a time.
   */
  workerConcurrency: int(0, 100).default(1),
  /** Existing bucket to use (imported by name); its encryption, versioning and lifecycle stay yours to manage. */
  bucketName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid bucket name')
    .optional(),
  logRetentionDays: z.coerce
    .number()
    .refine((d) => LOG_RETENTION_DAYS.includes(d), 'not a CloudWatch retention period')
    .default(30),
  /** Levels both Lambda's log filter and the handlers' logger (lambda/aws/env.ts) understand. */
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** Runs started by uploads only validate and report (nothing is written to the portal); a manual start's dryRun wins. */
  dryRun: bool.default(false),
  /** Worker chunks in a row that finish no row (the portal defers everything) before the run halts with NO_PROGRESS. */
  maxIdleChunks: int(1, 1000).default(DEFAULT_MAX_IDLE_CHUNKS),
  /**
   * Hours a run waits out an unreachable portal (between chunks, in a Wait state) before it halts with every
   * unsent row skipped; unset = the run option's default (lambda/config.ts outageWaitMs). A manual start may shorten it.
   */
  outageWaitHours: z.coerce.number().min(0).max(72).optional(),
  /** Days a report stays under reports/. */
  reportRetentionDays: int(1, 3650).default(90),
  /** Days a leftover chunk part stays under parts/ (finalize deletes them; leftovers come from crashed runs). */
  partsRetentionDays: int(1, 365).default(7),
  /** Days an overwritten or deleted object version is kept (keys outside incoming/, parts/, reports/). */
  noncurrentVersionDays: int(1, 3650).default(30),
  /** Days a source CSV (lead data: names, phones, e-mails) stays under incoming/ after its upload. */
  incomingRetentionDays: int(1, 3650).default(30),
  /**
   * Days a replaced or deleted source version is kept. At least 2: a run pinned to a version replaced mid-run
   * still reads it (S3 counts from the next midnight UTC, so 1 day can be barely 24 hours).
   */
  incomingNoncurrentDays: int(1, 365).default(2),
  /** SSE-KMS with a customer managed key (created here, rotated yearly) instead of SSE-S3; own bucket only. */
  kmsKey: bool.default(false),
  /** X-Ray tracing on the state machine and the functions. */
  tracing: bool.default(false),
  /**
   * Percentage of a run's rows that failed at the portal above which the FailedRowShare alarm fires (finalize
   * publishes the share once per run).
   */
  failedRowsAlarmPercent: z.coerce.number().min(0).max(100).default(5),
  /**
   * E-mail address that gets each run's end message (file, result, counts, report links): the stack adds an SNS
   * topic finalize publishes to, and an e-mail subscription (the address confirms it once).
   */
  notifyEmail: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'not an e-mail address')
    .optional(),
  /**
   * The run-end message's links (report.html, rejected.csv) last SigV4's 7 days: the stack adds an IAM user that may
   * only read reports/* through pre-signed URLs, its access key in a secret only finalize may read, and finalize
   * signs with it (infra/linkSigner.ts). Default: on with notifyEmail (people click the mail's links days later),
   * off without it. A long-lived key to the reports (lead data), and accounts whose policies forbid IAM users or
   * access keys fail the deploy: `false` then, and finalize's role signs (links end with its session, hours).
   */
  sevenDayLinks: bool.optional(),
  /** With sevenDayLinks: change it (e.g. 2) to replace the signing key on the next deploy (links it signed stop working). */
  linkKeySerial: int(1, 1_000_000).default(1),
  /** Existing SNS topic that alarms notify (optional). */
  alarmTopicArn: z
    .string()
    .regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'not an SNS topic ARN')
    .optional(),
});
export type DeployConfigInput = z.input<typeof DeployConfigSchema>;

export type DeployConfig = Omit<z.infer<typeof DeployConfigSchema>, 'portalRate' | 'portalBurst' | 'plan' | 'sevenDayLinks'> & {
  portalRate: number;
  portalBurst: number;
  sevenDayLinks: boolean;
};

/** Context keys the stack reads (the schema's keys). */
export const CONTEXT_KEYS = Object.keys(DeployConfigSchema.shape) as (keyof DeployConfigInput)[];

/** Validates raw parameters and resolves the plan preset into rate/burst. Throws a readable error on bad input. */
export function parseDeployConfig(raw: Record<string, unknown>): DeployConfig {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const result = DeployConfigSchema.safeParse(defined);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid deploy parameters: ${issues}`);
  }
  const { plan, portalRate, portalBurst, sevenDayLinks, ...rest } = result.data;
  const preset = plan ? PLAN_PRESETS[plan] : {};
  return {
    ...rest,
    portalRate: portalRate ?? preset.rate ?? portalDefaults.rate,
    portalBurst: portalBurst ?? preset.burst ?? portalDefaults.burst,
    sevenDayLinks: sevenDayLinks ?? rest.notifyEmail !== undefined,
  };
}

/** Reads every known key from CDK context (a `tryGetContext`-like function). */
export function readContext(get: (key: string) => unknown): Record<string, unknown> {
  return Object.fromEntries(CONTEXT_KEYS.map((k) => [k, get(k)]));
}
