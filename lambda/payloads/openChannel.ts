import type { PortalMultifield } from '../types.ts';

/**
 * Open Channel bindings (bitrix24-api.md, corrections §9): IM entries of VALUE_TYPE OPENLINE or IMOL, or whose
 * VALUE starts `imol|` (the prefix CCrmFieldMulti derives HAS_IMOL from), and every LINK entry. They are system
 * data: deleting or rewriting one unlinks the lead from its chats, so an import never writes, deletes or
 * rewrites them, and a column that would write them refuses the file.
 */

export const OPEN_CHANNEL_REASON =
  'Open Channel bindings are system data managed by Bitrix24; importing into them would unlink the lead from its chats';

const BINDING_VALUE_TYPES: readonly string[] = ['OPENLINE', 'IMOL'];
const BINDING_VALUE = /^imol\|/i;

/** A column (multifield type + VALUE_TYPE) that would write bindings: IM_OPENLINE, IM_IMOL, any LINK column. */
export function isOpenChannelColumn(code: string, valueType: string | undefined): boolean {
  if (code === 'LINK') return true;
  return code === 'IM' && valueType !== undefined && BINDING_VALUE_TYPES.includes(valueType.toUpperCase());
}

/** A value a row must not write into IM: it would pose as a binding. */
export function isOpenChannelValue(value: string): boolean {
  return BINDING_VALUE.test(value.trim());
}

/** A lead's multifield entry that is a binding (left out of every replace and clear). */
export function isOpenChannelEntry(type: string, entry: Pick<PortalMultifield, 'VALUE' | 'VALUE_TYPE'>): boolean {
  if (type === 'LINK') return true;
  if (type !== 'IM') return false;
  return BINDING_VALUE_TYPES.includes(String(entry.VALUE_TYPE ?? '').toUpperCase()) || isOpenChannelValue(String(entry.VALUE ?? ''));
}
