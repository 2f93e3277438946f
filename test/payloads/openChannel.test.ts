import { describe, expect, it } from 'vitest';
import { FileRefusedError } from '../../lambda/errors.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import type { Catalogue } from '../../lambda/types.ts';
import { checker, invalid, valid } from '../support/payload.ts';

const WHY = 'Open Channel bindings are system data managed by Bitrix24; importing into them would unlink the lead from its chats';

function refusal(cells: string[], mapping: Record<string, string> = {}, catalogue: Catalogue = standardCatalogue()): FileRefusedError {
  try {
    resolveHeader(cells, { mapping, catalogue });
  } catch (e) {
    expect(e).toBeInstanceOf(FileRefusedError);
    return e as FileRefusedError;
  }
  throw new Error('expected the header to be refused');
}

describe('columns that would write Open Channel bindings refuse the file', () => {
  it.each(['IM_OPENLINE', 'im_imol', 'LINK', 'LINK_USER', 'link_work', 'Link_Whatever'])('%s', (column) => {
    const e = refusal(['ID', 'TITLE', column]);
    expect(e.code).toBe('READ_ONLY_COLUMN');
    expect(e.message).toContain(`"${column}"`);
    expect(e.message).toContain(WHY);
  });
  it('names the field when the column reaches it through the mapping file', () => {
    const e = refusal(['ID', 'Chat'], { Chat: 'IM_OPENLINE' });
    expect(e.code).toBe('READ_ONLY_COLUMN');
    expect(e.message).toContain('"Chat" (column 2, IM_OPENLINE): ');
    expect(e.message).toContain(WHY);
    expect(e.message).not.toContain('UNKNOWN_COLUMN');
    expect(refusal(['ID', 'Operator'], { Operator: 'LINK' }).message).toContain(`"Operator" (column 2, LINK): ${WHY}`);
    expect(refusal(['ID', 'Operator'], { Operator: 'link_user' }).message).toContain(`"Operator" (column 2, LINK_USER): ${WHY}`);
  });
  it('and through a label', () => {
    const catalogue = standardCatalogue();
    catalogue.fields.set('LINK', { code: 'LINK', type: 'crm_multifield', multiple: true, labels: ['Operator link'] });
    expect(refusal(['ID', 'Operator link'], {}, catalogue).message).toContain(`"Operator link" (column 2, LINK): ${WHY}`);
  });
  it('ordinary IM columns still work, and the refusal never suggests a binding column', () => {
    expect(resolveHeader(['ID', 'IM', 'IM_TELEGRAM'], { mapping: {}, catalogue: standardCatalogue() })).toHaveLength(3);
    const e = refusal(['ID', 'IM_OPENLIN']);
    expect(e.code).toBe('UNKNOWN_COLUMN');
    expect(e.message).not.toMatch(/did you mean IM_OPENLINE/);
    expect(e.message).not.toMatch(/IM value types:.*OPENLINE/);
    expect(e.message).not.toMatch(/IMOL/);
  });
});

describe('a cell that would write a binding is refused', () => {
  it('an imol| value under any IM column is invalid, naming the column', () => {
    const check = checker(['ID', 'IM', 'IM_TELEGRAM']);
    const o = invalid(check(['1', 'imol|livechat|1|2|3', ''], 4));
    expect(o.errorCode).toBe('INVALID_VALUE');
    expect(o.message).toBe(`line 4, IM: "imol|livechat|1|2|3" is an Open Channel binding: ${WHY}`);
    expect(invalid(check(['1', '', 'IMOL|x'], 5)).message).toContain('line 5, IM_TELEGRAM: "IMOL|x" is an Open Channel binding');
    expect(valid(check(['1', 'skype:bob', '@bob'])).fields.IM).toHaveLength(2);
  });
});
