import { quote } from '../../payloads/quote.ts';
import type { RowStatus } from '../../types.ts';
import { label, type MatchKey, type MatchSpec } from './keys.ts';
import { IDS_PER_VALUE, type KeyResolution } from './resolve.ts';

/** No lead holds the key: the row fails, nothing is written. */
export const NO_MATCH = 'NO_MATCH';
/** Several leads hold the key: the row fails, nothing is written, the message lists them. */
export const AMBIGUOUS_MATCH = 'AMBIGUOUS_MATCH';
/** Lead IDs an AMBIGUOUS_MATCH message lists at most. */
export const LISTED_IDS = 10;

export type MatchDecision = { matched: true; id: number } | { matched: false; status: RowStatus; errorCode: string; message: string };

/**
 * A key's resolution as a row decision: the one lead, or why not.
 *
 * @example decide({ kind: 'EMAIL' }, { key: 'a@x.com', value: 'a@x.com' }, { ids: [12, 15] })
 * // → { matched: false, status: 'failed', errorCode: 'AMBIGUOUS_MATCH', message: '2 leads have the e-mail "a@x.com": 12, 15' }
 */
export function decide(match: MatchSpec, key: MatchKey, r: KeyResolution | undefined): MatchDecision {
  const what = `the ${label(match)} ${quote(key.value)}`;
  if (!r) return { matched: false, status: 'failed', errorCode: 'READ_FAILED', message: `${what} was not looked up` };
  if (r.failure) return { matched: false, status: r.failure.status, errorCode: r.failure.errorCode, message: r.failure.message };
  if (r.ids.length === 1) return { matched: true, id: r.ids[0] };
  if (r.ids.length === 0) return { matched: false, status: 'failed', errorCode: NO_MATCH, message: `no lead has ${what}` };
  const shown = r.ids.slice(0, LISTED_IDS).join(', ');
  const rest = r.ids.length > LISTED_IDS ? `, … (${r.ids.length} found)` : '';
  // findbycomm lists 20 leads per value at most: at that count there may be more.
  const count = match.kind !== 'UF' && r.ids.length >= IDS_PER_VALUE ? `${r.ids.length} or more` : String(r.ids.length);
  return { matched: false, status: 'failed', errorCode: AMBIGUOUS_MATCH, message: `${count} leads have ${what}: ${shown}${rest}` };
}
