import type { PlannedWrite, ValidRow, WritePlanner } from '../../types.ts';
import { outcome } from './outcomes.ts';

/** Sends each row's fields as they are, without reading the lead. */
export class BlindPlanner implements WritePlanner {
  async plan(rows: ValidRow[]): Promise<PlannedWrite[]> {
    return rows.map((row) => {
      if (row.clears.length > 0) {
        return {
          row,
          fields: null,
          changes: [],
          outcome: outcome(
            row,
            'failed',
            'NEEDS_DIFF',
            `clearing ${row.clears.join(', ')} needs diff mode: the lead must be read to delete its entries by ID (re-run with diff on)`,
            0,
          ),
        };
      }
      return { row, fields: row.fields, changes: Object.keys(row.fields) };
    });
  }
}

/** Sends each row's fields as they are, without reading the lead. Rows that clear multifields fail NEEDS_DIFF. */
export function blindPlanner(): WritePlanner {
  return new BlindPlanner();
}
