import type { RunOptions } from '../config.ts';
import type { LeadFields } from '../types.ts';
import type { ColumnPlan } from './columnPlan.ts';

/** The clear marker as cells are compared with it: trimmed, like the cells. */
export function clearMarkerOf(options: Pick<RunOptions, 'clearMarker'>): string {
  return options.clearMarker.trim();
}

/**
 * A cell holding the marker empties its field: a scalar is sent as '', a multifield VALUE_TYPE is listed once
 * in the row's `clears` (the list is made on first use and returned).
 */
export function applyClear(
  plan: Pick<ColumnPlan, 'code' | 'clearKey'>,
  fields: LeadFields,
  clears: string[] | undefined,
): string[] | undefined {
  if (!plan.clearKey) {
    fields[plan.code] = '';
    return clears;
  }
  const list = clears ?? [];
  if (!list.includes(plan.clearKey)) list.push(plan.clearKey);
  return list;
}
