import { describe, expect, it } from 'vitest';
import { DEFAULT_USER_FIELDS } from '../../../harness/sandbox/catalogue.ts';
import { DuplicateSearch, matchesMultiFieldFilter, prepareMultiFieldFilter } from '../../../harness/sandbox/duplicates.ts';
import { LeadStore, RestError } from '../../../harness/sandbox/leads.ts';
import { parsePhpQuery } from '../../../harness/sandbox/query.ts';
import { command, type QueryValue } from '../../../lambda/calls/encode.ts';

function seeded() {
  const store = new LeadStore({ userId: 1, userFields: DEFAULT_USER_FIELDS, tzOffset: 180, now: () => 0 });
  const ids = store.seed([
    { TITLE: 'Ann', EMAIL: [{ VALUE: 'Ann@Example.com', VALUE_TYPE: 'WORK' }], PHONE: [{ VALUE: '+7 912 345-67-89', VALUE_TYPE: 'WORK' }] },
    { TITLE: 'Ann again', EMAIL: [{ VALUE: 'ann@example.com', VALUE_TYPE: 'HOME' }] },
    {
      TITLE: 'Bob',
      PHONE: [
        { VALUE: '8 (912) 345 67 89', VALUE_TYPE: 'MOBILE' },
        { VALUE: '+1 212 555 0100;7', VALUE_TYPE: 'WORK' },
      ],
    },
    { TITLE: 'Cid', EMAIL: [{ VALUE: 'joann@example.com', VALUE_TYPE: 'WORK' }], PHONE: [{ VALUE: '9123456789', VALUE_TYPE: 'WORK' }] },
  ]);
  let version = 0;
  const search = new DuplicateSearch(
    () => store.all(),
    () => `${store.writes()}:${version}`,
  );
  return { store, ids, search, bump: () => version++ };
}

/** The parameters as the portal reads a batch command string. */
function params(p: Record<string, QueryValue>): Record<string, unknown> {
  return parsePhpQuery(command('crm.duplicate.findbycomm', p).split('?')[1] ?? '');
}

describe('crm.duplicate.findbycomm (sandbox)', () => {
  it('aggregates the IDs of every value into one LEAD list, each once, in the order found', () => {
    const { search, ids } = seeded();
    const r = search.findByComm(
      params({ entity_type: 'LEAD', type: 'PHONE', values: ['8 912 345 67 89', '+1 (212) 555-0100', '9123456789'] }),
    );
    expect(r.result).toEqual({ LEAD: [ids[0], ids[2], ids[3]] });
  });

  it('e-mails match case-insensitively and exactly (no substring); the type is case-insensitive', () => {
    const { search, ids } = seeded();
    expect(search.findByComm(params({ entity_type: 'LEAD', type: 'email', values: ['ANN@example.COM'] })).result).toEqual({
      LEAD: [ids[0], ids[1]],
    });
  });

  it('answers [] when nothing matches, as PHP prints an empty array', () => {
    const { search } = seeded();
    expect(search.findByComm(params({ entity_type: 'LEAD', type: 'EMAIL', values: ['nobody@example.com'] })).result).toEqual([]);
    expect(search.findByComm(params({ entity_type: 'CONTACT', type: 'EMAIL', values: ['ann@example.com'] })).result).toEqual([]);
  });

  it('reads 20 distinct values and ignores the rest without an error', () => {
    const { search } = seeded();
    const fillers = Array.from({ length: 20 }, (_, i) => `nobody${i}@example.com`);
    expect(search.findByComm(params({ type: 'EMAIL', values: [...fillers, 'ann@example.com'] })).result).toEqual([]);
    // Repeats do not count towards the 20: the same phone twice is one criterion.
    const phones = ['+7 912 345-67-89', '8 912 345 67 89', ...Array.from({ length: 18 }, (_, i) => `+4930${1000000 + i}`), '9123456789'];
    expect((search.findByComm(params({ type: 'PHONE', values: phones })).result as { LEAD: number[] }).LEAD).toHaveLength(3);
  });

  it('caps each value at 20 leads, the lowest IDs', () => {
    const { store, search, bump } = seeded();
    const many = store.seed(Array.from({ length: 25 }, () => ({ EMAIL: [{ VALUE: 'shared@example.com' }] })));
    bump();
    expect(search.findByComm(params({ type: 'EMAIL', values: ['shared@example.com'] })).result).toEqual({ LEAD: many.slice(0, 20) });
  });

  it('sees writes: the index follows the store', () => {
    const { store, search, ids } = seeded();
    expect(search.findByComm(params({ type: 'EMAIL', values: ['new@example.com'] })).result).toEqual([]);
    store.call(
      'crm.lead.update',
      { id: String(ids[3]), fields: { EMAIL: { 0: { VALUE: 'new@example.com' } } } },
      { via: 'direct', requestSeq: 1 },
    );
    expect(search.findByComm(params({ type: 'EMAIL', values: ['NEW@example.com'] })).result).toEqual({ LEAD: [ids[3]] });
  });

  it.each([
    [{ values: ['a@x.com'] }, 'Communication type is not defined.'],
    [{ type: 'WEB', values: ['a.com'] }, "Communication type 'WEB' is not supported in current context."],
    [{ type: 'EMAIL' }, 'Communication values is not defined.'],
    [{ type: 'EMAIL', values: 'a@x.com' }, 'Communication values is not defined.'],
    [{ type: 'EMAIL', entity_type: 'DEAL', values: ['a@x.com'] }, 'Deal is not supported in current context.'],
  ])('refuses %j with the proxy text', (p, text) => {
    const { search } = seeded();
    let caught: unknown;
    try {
      search.findByComm(params(p as Record<string, QueryValue>));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RestError);
    expect(caught).toMatchObject({ status: 400, error: '', description: text });
  });
});

describe('crm.lead.list multifield filters (sandbox)', () => {
  it('EMAIL is a trimmed substring match on the stored text, first array element only', () => {
    const { store, ids } = seeded();
    const { filter, fm } = prepareMultiFieldFilter({ EMAIL: { 0: '  ann@example.com ', 1: 'cid@x.com' }, '>ID': '0' });
    expect(filter).toEqual({ '>ID': '0' });
    expect(fm).toEqual([{ type: 'EMAIL', op: '%', value: 'ann@example.com' }]);
    const hit = store
      .all()
      .filter((l) => matchesMultiFieldFilter(l, fm))
      .map((l) => Number(l.ID));
    expect(hit).toEqual([ids[0], ids[1], ids[3]]); // joann@… contains ann@…
  });

  it('PHONE compares raw text: +7… does not find 8 (912)…; a trailing % means "starts with"', () => {
    const { store, ids } = seeded();
    const exact = prepareMultiFieldFilter({ PHONE: '+7 912 345-67-89' }).fm;
    expect(
      store
        .all()
        .filter((l) => matchesMultiFieldFilter(l, exact))
        .map((l) => Number(l.ID)),
    ).toEqual([ids[0]]);
    const head = prepareMultiFieldFilter({ PHONE: '8 (912%' }).fm;
    expect(head).toEqual([{ type: 'PHONE', op: '=%', value: '8 (912' }]);
    expect(
      store
        .all()
        .filter((l) => matchesMultiFieldFilter(l, head))
        .map((l) => Number(l.ID)),
    ).toEqual([ids[2]]);
  });

  it('an empty value sets no condition', () => {
    expect(prepareMultiFieldFilter({ EMAIL: '  ' })).toEqual({ filter: {}, fm: [] });
  });
});
