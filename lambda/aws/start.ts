import type { Context, S3Event } from 'aws-lambda';

/** A manual backfill: start a run on an object already in the bucket. */
export interface ManualStart {
  bucket: string;
  key: string;
  dryRun?: boolean;
  options?: unknown;
}

export type StartEvent = S3Event | ManualStart;

/** What start reports for each object it was given. */
export interface StartResult {
  runs: Array<{ bucket: string; key: string; runId?: string; executionName?: string; status: 'started' | 'duplicate' | 'ignored'; reason?: string }>;
}

/** Starts one Step Functions execution per incoming CSV (filled in next). */
export const handler = async (_event: StartEvent, _context?: Context): Promise<StartResult> => {
  return { runs: [] };
};
