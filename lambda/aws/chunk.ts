import type { Context } from 'aws-lambda';
import type { RunState } from '../state.ts';

/** One chunk of the run: RunState in, next RunState out (checkpoint.done ends the loop). */
export const handler = async (event: RunState, _context?: Context): Promise<RunState> => {
  return event;
};
