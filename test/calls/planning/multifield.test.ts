import { describe, expect, it } from 'vitest';
import { applyOps, changeLabels, opsToFields, planMultifield } from '../../../lambda/calls/planning/multifield.ts';
import type { MultifieldValue, PortalMultifield } from '../../../lambda/types.ts';

const e = (ID: string, VALUE_TYPE: string, VALUE: string, TYPE_ID = 'PHONE'): PortalMultifield => ({ ID, VALUE_TYPE, VALUE, TYPE_ID });
const v = (VALUE: string, VALUE_TYPE: string): MultifieldValue => ({ VALUE, VALUE_TYPE });

/** Runs the plan, applies it, and checks that replaying the same row plans nothing. */
function settle(type: string, current: PortalMultifield[], values: MultifieldValue[], clears: string[], mode: 'merge' | 'replace') {
  const ops = planMultifield(type, current, values, clears, mode);
  let n = 0;
  const after = applyOps(type, current, ops, () => `n${++n}`);
  const again = planMultifield(type, after, values, clears, mode);
  return { ops, after, again };
}

describe('merge (default)', () => {
  it('a value already on the lead is not sent again, even formatted differently', () => {
    const { ops } = settle('PHONE', [e('7', 'WORK', '+1 (555) 010-0100')], [v('15550100100', 'WORK')], [], 'merge');
    expect(ops).toEqual([]);
  });
  it('a new value is added without ID; replay adds nothing', () => {
    const { ops, after, again } = settle('PHONE', [e('7', 'WORK', '+15550100')], [v('+15550199', 'MOBILE')], [], 'merge');
    expect(opsToFields(ops)).toEqual([{ VALUE: '+15550199', VALUE_TYPE: 'MOBILE' }]);
    expect(after).toHaveLength(2);
    expect(again).toEqual([]);
  });
  it('a value present under another VALUE_TYPE counts as present (no duplicate)', () => {
    expect(planMultifield('EMAIL', [e('3', 'HOME', 'Bob@x.com', 'EMAIL')], [v('bob@x.com', 'WORK')], [], 'merge')).toEqual([]);
  });
  it('duplicates on the lead: nothing more is added, nothing deleted', () => {
    const cur = [e('1', 'WORK', '+1555'), e('2', 'WORK', '1555')];
    expect(planMultifield('PHONE', cur, [v('+1 555', 'WORK')], [], 'merge')).toEqual([]);
  });
  it('the same value twice in the row is added once', () => {
    const ops = planMultifield('PHONE', [], [v('+1555', 'WORK'), v('1 555', 'WORK')], [], 'merge');
    expect(ops).toEqual([{ kind: 'add', VALUE: '+1555', VALUE_TYPE: 'WORK' }]);
  });
  it('clears delete every entry of that VALUE_TYPE by ID, and only those', () => {
    const cur = [e('1', 'MOBILE', '+1'), e('2', 'MOBILE', '+2'), e('3', 'WORK', '+3')];
    const { ops, after, again } = settle('PHONE', cur, [], ['MOBILE'], 'merge');
    expect(opsToFields(ops)).toEqual([
      { ID: '1', VALUE: '', DELETE: 'Y' },
      { ID: '2', VALUE: '', DELETE: 'Y' },
    ]);
    expect(after.map((x) => x.ID)).toEqual(['3']);
    expect(again).toEqual([]);
  });
  it('"*" clears every VALUE_TYPE', () => {
    const ops = planMultifield('PHONE', [e('1', 'MOBILE', '+1'), e('3', 'WORK', '+3')], [], ['*'], 'merge');
    expect(ops.map((o) => o.kind)).toEqual(['delete', 'delete']);
  });
});

describe('replace', () => {
  it('the lead ends with exactly the row values of the type, whatever their VALUE_TYPEs', () => {
    const cur = [e('1', 'MOBILE', '+100'), e('2', 'MOBILE', '+200'), e('3', 'WORK', '+300')];
    const { ops, after, again } = settle('PHONE', cur, [v('+200', 'MOBILE'), v('+400', 'MOBILE')], [], 'replace');
    expect(ops).toEqual([
      { kind: 'add', VALUE: '+400', VALUE_TYPE: 'MOBILE' },
      { kind: 'delete', ID: '1', VALUE_TYPE: 'MOBILE' },
      { kind: 'delete', ID: '3', VALUE_TYPE: 'WORK' },
    ]);
    expect(after.map((x) => `${x.VALUE_TYPE} ${x.VALUE}`).sort()).toEqual(['MOBILE +200', 'MOBILE +400']);
    expect(again).toEqual([]);
  });
  it('a row with no value of the type leaves the lead alone in replace mode', () => {
    const { ops } = settle('PHONE', [e('3', 'WORK', '+300')], [], [], 'replace');
    expect(ops).toEqual([]);
  });
  it('a matching phone with other formatting is kept as stored: no rewrite (a formatting portal would undo it every run)', () => {
    const { ops, again } = settle('PHONE', [e('5', 'MOBILE', '1 555 0100')], [v('+15550100', 'MOBILE')], [], 'replace');
    expect(ops).toEqual([]);
    expect(again).toEqual([]);
  });
  it('other multifields with other text are rewritten in place (ID kept)', () => {
    const { ops, again } = settle('WEB', [e('5', 'WORK', 'http://a.com', 'WEB')], [v('a.com', 'WORK')], [], 'replace');
    expect(opsToFields(ops)).toEqual([{ ID: '5', VALUE: 'a.com', VALUE_TYPE: 'WORK' }]);
    expect(again).toEqual([]);
  });
  it('a portal that stores phones in its own format: the second replay plans nothing, in both modes', () => {
    const format = (x: string) => x.replace(/^\+?(\d)(\d{3})(\d{3})(\d{2})(\d{2})$/, '+$1 ($2) $3-$4-$5');
    for (const mode of ['merge', 'replace'] as const) {
      const cur = [e('5', 'WORK', '+7 (900) 111-22-33')];
      const values = [v('79001112233', 'MOBILE'), v('79005550000', 'MOBILE')];
      const ops = planMultifield('PHONE', cur, values, [], mode);
      expect(ops.length, mode).toBeGreaterThan(0);
      let n = 0;
      const stored = applyOps('PHONE', cur, ops, () => `n${++n}`).map((x) => ({ ...x, VALUE: format(x.VALUE) }));
      expect(stored.every((x) => x.VALUE.startsWith('+7 ('))).toBe(true);
      expect(planMultifield('PHONE', stored, values, [], mode), mode).toEqual([]);
    }
  });
  it('the value found under an out-of-scope VALUE_TYPE is moved, not added again', () => {
    const { ops, after, again } = settle('PHONE', [e('5', 'WORK', '+1555')], [v('+1555', 'MOBILE')], [], 'replace');
    expect(opsToFields(ops)).toEqual([{ ID: '5', VALUE: '+1555', VALUE_TYPE: 'MOBILE' }]);
    expect(after).toEqual([e('5', 'MOBILE', '+1555')]);
    expect(again).toEqual([]);
  });
  it('duplicates on the lead: one kept, the extras deleted', () => {
    const cur = [e('1', 'WORK', 'a@x.com', 'EMAIL'), e('2', 'WORK', 'A@x.com', 'EMAIL'), e('3', 'WORK', 'a@x.com', 'EMAIL')];
    const { ops, after, again } = settle('EMAIL', cur, [v('a@x.com', 'WORK')], [], 'replace');
    expect(ops).toEqual([
      { kind: 'delete', ID: '2', VALUE_TYPE: 'WORK' },
      { kind: 'delete', ID: '3', VALUE_TYPE: 'WORK' },
    ]);
    expect(after).toEqual([cur[0]]);
    expect(again).toEqual([]);
  });
  it('the lead ends with exactly the row values, replay plans nothing', () => {
    const cur = [e('1', 'WORK', 'http://a.com', 'WEB'), e('2', 'HOME', 'b.com', 'WEB')];
    const values = [v('https://c.com', 'WORK'), v('a.com', 'WORK'), v('d.com', 'HOME')];
    const { after, again } = settle('WEB', cur, values, [], 'replace');
    const byType = (t: string) =>
      after
        .filter((x) => x.VALUE_TYPE === t)
        .map((x) => x.VALUE)
        .sort();
    expect(byType('WORK')).toEqual(['a.com', 'https://c.com']);
    expect(byType('HOME')).toEqual(['d.com']);
    expect(again).toEqual([]);
  });
});

describe('change labels', () => {
  it('count adds, deletes and rewrites per VALUE_TYPE', () => {
    const labels = changeLabels('PHONE', [
      { kind: 'add', VALUE: '1', VALUE_TYPE: 'MOBILE' },
      { kind: 'delete', ID: '1', VALUE_TYPE: 'MOBILE' },
      { kind: 'delete', ID: '2', VALUE_TYPE: 'MOBILE' },
      { kind: 'update', ID: '3', VALUE: '3', VALUE_TYPE: 'WORK' },
    ]);
    expect(labels).toEqual(['PHONE:MOBILE+1-2', 'PHONE:WORK~1']);
  });
});

describe('as the server stores them: VALUE trimmed, VALUE_TYPE always sent', () => {
  it('a row value with spaces around it equals the stored trimmed value: no rewrite, no add', () => {
    for (const mode of ['merge', 'replace'] as const) {
      expect(planMultifield('EMAIL', [e('4', 'WORK', 'a@b.com', 'EMAIL')], [v(' a@b.com ', 'WORK')], [], mode), mode).toEqual([]);
      expect(planMultifield('WEB', [e('5', 'WORK', 'a.com', 'WEB')], [v('\ta.com ', 'WORK')], [], mode), mode).toEqual([]);
    }
  });
  it('values are sent trimmed', () => {
    expect(planMultifield('EMAIL', [], [v(' new@b.com ', 'WORK')], [], 'merge')).toEqual([
      { kind: 'add', VALUE: 'new@b.com', VALUE_TYPE: 'WORK' },
    ]);
    const moved = planMultifield('EMAIL', [e('4', 'HOME', 'a@b.com', 'EMAIL')], [v(' a@b.com ', 'WORK')], [], 'replace');
    expect(opsToFields(moved)).toEqual([{ ID: '4', VALUE: 'a@b.com', VALUE_TYPE: 'WORK' }]);
  });
  it('every update sent by ID carries a VALUE_TYPE (without one the portal resets the type)', () => {
    const cur = [e('1', 'WORK', 'http://a.com', 'WEB'), e('2', 'HOME', 'b.com', 'WEB'), e('3', '', 'c.com', 'WEB')];
    const values = [v('a.com', 'WORK'), v('b.com', 'WORK'), { VALUE: 'c.com' }];
    const sent = opsToFields(planMultifield('WEB', cur, values, [], 'replace')).filter((f) => f.ID && f.DELETE !== 'Y');
    expect(sent.length).toBeGreaterThan(0);
    for (const f of sent) expect(f.VALUE_TYPE, JSON.stringify(f)).toMatch(/^[A-Z]+$/);
  });
});
