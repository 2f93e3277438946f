import type { Context } from 'aws-lambda';
import type { RunState, Summary } from '../state.ts';

/** Finalize's input: the last RunState, plus the caught error when the chunk loop failed. */
export type FinalizeEvent = RunState & { error?: { Error?: string; Cause?: string } };

/** Merges the report parts into report.csv, rejected.csv and summary.json. */
export const handler = async (event: FinalizeEvent, _context?: Context): Promise<Summary> => {
  throw new Error(`finalize not wired yet for ${event.runId}`);
};
