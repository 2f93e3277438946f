import { z } from 'zod';
import { ConfigurationError } from './errors.ts';

/**
 * One configuration object for a run, validated once at the edge (CLI flags, Lambda payload, environment)
 * and passed down. Defaults live here and nowhere else.
 */
export const PortalLimitsSchema = z.object({
  /** Leaky bucket drain, requests per second (Enterprise: 5). */
  rate: z.number().positive().default(2),
  /** Leaky bucket size (Enterprise: 250). */
  burst: z.number().int().positive().default(50),
  /** Operating-time budget per method, seconds of server time within the window. */
  operatingLimit: z.number().positive().default(480),
  /** Operating window, seconds. */
  operatingWindow: z.number().positive().default(600),
  /**
   * Batches in flight at once (p-limit). One series, as the docs ask ("do not run multiple parallel series of
   * requests"), and measured the fastest where the operating budget binds (bench/window: 100 s with one, 178 s
   * with two, 252 s with four: a batch in flight is held at its worst-case cost until it answers). Cheap updates
   * are no exception: the portal books a batch's commands as their sum, so 0.02 s updates are budget-bound at
   * 40 rows/s whatever the concurrency (README, "Concurrency").
   */
  concurrency: z.number().int().positive().max(16).default(1),
});
export type PortalLimits = z.infer<typeof PortalLimitsSchema>;

/** Presets a user can name instead of the four numbers. */
export const PLAN_PRESETS: Record<string, Partial<PortalLimits>> = {
  standard: { rate: 2, burst: 50 },
  enterprise: { rate: 5, burst: 250 },
};

export const InputLimitsSchema = z.object({
  /** Largest source object accepted, bytes. */
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  /** Most records processed in one run. */
  maxRows: z.number().int().positive().default(5_000_000),
  /** Largest single cell, bytes; a longer cell makes its row invalid (and keeps memory bounded). */
  maxCellBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
});
export type InputLimits = z.infer<typeof InputLimitsSchema>;

export const RunOptionsSchema = z.object({
  dryRun: z.boolean().default(false),
  /**
   * Source text encoding; 'auto' = UTF-8 (BOM stripped) unless the bytes are not valid UTF-8, then the single-byte
   * code page the text reads as (lambda/source/format.ts), refused when that guess is not safe.
   */
  encoding: z.enum(['auto', 'utf-8', 'windows-1251', 'windows-1252', 'macintosh']).default('auto'),
  /**
   * The file's decimal mark for amounts: 'auto' reads `12,50` and `12.50` alike but refuses a lone mark before
   * exactly three digits (`12,500`: thousands or decimals?) unless the file's other amounts decide it.
   */
  decimalMark: z.enum(['auto', ',', '.']).default('auto'),
  /** How a date written with slashes (`3/5/1990`) is read; 'auto' refuses it when both readings are dates. */
  dateOrder: z.enum(['auto', 'DMY', 'MDY']).default('auto'),
  /** ISO 3166 country for phones written without a country code (`8 912 …`); the portal's country when unset. */
  phoneCountry: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'a phone country is a two-letter ISO 3166 code (RU, US, DE…)')
    .optional(),
  /**
   * What finds a row's lead: ID (the default), or for rows without one EMAIL, PHONE or a custom field (code or
   * label): the lead that holds the row's key (lambda/calls/matching/).
   */
  match: z.string().trim().min(1).default('ID'),
  /** An undo run (the `undo` command, or a manual `{ "undo": … }`): rows are leads and the changes to take back. */
  undo: z.boolean().default(false),
  /** Columns nobody can write (unknown or read-only) are skipped with one warning instead of refusing the file. */
  ignoreUnknown: z.boolean().default(false),
  /** How long a portal outage is waited out before the run halts with every unsent row skipped, ms. */
  outageWaitMs: z
    .number()
    .int()
    .nonnegative()
    .default(6 * 60 * 60 * 1000),
  delimiter: z.enum(['auto', ',', ';', '\t']).default('auto'),
  /** params.REGISTER_SONET_EVENT: N by default, so a backfill posts no feed events. */
  sonet: z.enum(['Y', 'N']).default('N'),
  /** User header → field code (e.g. "Phone number" → "PHONE_MOBILE"); null skips the column. */
  mapping: z.record(z.string(), z.string().nullable()).default({}),
  /** A cell equal to this clears the field explicitly (an empty cell leaves it unchanged). */
  clearMarker: z.string().default('#N/A'),
  /** Read current lead state and write only what differs. */
  diff: z.boolean().default(true),
  /** Multifields: merge = add values not yet on the lead; replace = lead ends with exactly the row's values. */
  multifield: z.enum(['merge', 'replace']).default('merge'),
  limits: PortalLimitsSchema.default(PortalLimitsSchema.parse({})),
  input: InputLimitsSchema.default(InputLimitsSchema.parse({})),
});
export type RunOptions = z.infer<typeof RunOptionsSchema>;
export type RunOptionsInput = z.input<typeof RunOptionsSchema>;

export function parseRunOptions(input: unknown): RunOptions {
  return RunOptionsSchema.parse(input ?? {});
}

/** A host name (`crm.example.com`) or its subdomains (`*.example.com`): lowercase letters, digits, `-`, dots. */
const ALLOWED_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/**
 * Hosts besides Bitrix24's cloud zones that a portal's redirect may move the webhook to (a self-hosted portal
 * that changed its name): `crm.example.com`, or `*.example.com` for its subdomains. IP addresses, private and
 * loopback addresses stay refused whatever this says. Operator configuration (the B24_ALLOWED_HOSTS variable),
 * not a run option: a manual invocation must not be able to widen where the webhook code may go.
 */
export const AllowedHostsSchema = z.array(
  z
    .string()
    .trim()
    .toLowerCase()
    .regex(ALLOWED_HOST, 'an allowed host is a host name (crm.example.com) or *.example.com, without scheme, port or path'),
);

/** `B24_ALLOWED_HOSTS`: names separated by commas or spaces (none when unset). Throws ConfigurationError. */
export function parseAllowedHosts(text: string | undefined): string[] {
  const names = (text ?? '').split(/[\s,]+/).filter(Boolean);
  const parsed = AllowedHostsSchema.safeParse(names);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(`B24_ALLOWED_HOSTS: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
}
