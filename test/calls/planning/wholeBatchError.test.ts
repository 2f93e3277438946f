import { describe, expect, it } from 'vitest';
import { createDiffPlanner } from '../../../lambda/calls/planning/diff.ts';
import { PortalError } from '../../../lambda/errors.ts';
import type { PortalApi, ValidRow } from '../../../lambda/types.ts';

const rows = (n: number): ValidRow[] =>
  Array.from({ length: n }, (_, i) => ({ line: i + 2, id: i + 1, fields: { TITLE: `t${i}` }, clears: [], warnings: [], raw: '' }));

/**
 * The real server has no whole-request ERROR_BATCH_LENGTH_EXCEEDED (it refuses commands past 50 one by one,
 * and client.batch splits reads too large or too slow itself): the planner no longer catches one to read in
 * halves. Such an error is an answer like any other PortalError, and rejects `plan`, as the sender expects.
 */
describe('diff reads: a whole-request error is not split by the planner', () => {
  it('a PortalError ERROR_BATCH_LENGTH_EXCEEDED from batch rejects plan after one read', async () => {
    let reads = 0;
    const api: PortalApi = {
      call: async () => {
        throw new Error('the planner reads through batch only');
      },
      batch: async () => {
        reads += 1;
        throw new PortalError('ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded', 400);
      },
    };
    const planner = createDiffPlanner({ api, options: { multifield: 'merge' } });
    await expect(planner.plan(rows(120), Date.now() + 60_000)).rejects.toMatchObject({ code: 'ERROR_BATCH_LENGTH_EXCEEDED' });
    expect(reads).toBe(1);
  });
});
