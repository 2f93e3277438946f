import { quote } from './quote.ts';
import { Bad, type Parser } from './values/parser.ts';

/**
 * TITLE is `isRequired` in crm.lead.fields, and CCrmLead::CheckFields refuses the WHOLE update when TITLE is sent
 * empty by PHP's empty(): "" and "0" (bitrix24-api.md, corrections §8). An empty cell leaves the title alone
 * and is fine; the clear marker and a lone "0" would empty it, so the row is refused here instead.
 */
export const TITLE_CLEAR_REFUSAL = 'the title cannot be emptied (the portal requires it and would refuse the whole update)';

export const parseTitle: Parser = (v) =>
  v === '0' ? new Bad(`${quote(v)} counts as empty to the portal, which requires a title and would refuse the whole update`) : v;
