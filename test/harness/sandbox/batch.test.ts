import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../harness/sandbox/portal.ts';
import { callForm, callJson } from '../../support/sandbox.ts';

let sb: Sandbox;
afterEach(async () => sb?.close());

const upd = (id: number, name: string) => `crm.lead.update?id=${id}&fields%5BNAME%5D=${encodeURIComponent(name)}`;

describe('sandbox: batch', () => {
  it('runs keyed commands in order and maps results, totals and times by key', async () => {
    sb = await startSandbox();
    const [a, b] = sb.seedLeads([{}, {}]);
    const res = await callJson(sb, 'batch', {
      halt: 0,
      cmd: { r1: upd(a, 'Ann & Co'), r2: upd(b, 'Bob+1'), l: `crm.lead.list?filter%5B%40ID%5D%5B%5D=${a}&select%5B%5D=NAME` },
    });
    expect(res.status).toBe(200);
    const r = res.body.result;
    expect(r.result).toEqual({ r1: true, r2: true, l: [{ ID: String(a), NAME: 'Ann & Co' }] });
    expect(r.result_error).toEqual([]);
    expect(r.result_total).toEqual({ l: 1 });
    expect(r.result_next).toEqual([]);
    expect(Object.keys(r.result_time)).toEqual(['r1', 'r2', 'l']);
    expect(Object.keys(r.result_time.r1)).toEqual([
      'start',
      'finish',
      'duration',
      'processing',
      'date_start',
      'date_finish',
      'operating_reset_at',
      'operating',
    ]);
    expect(sb.lead(b)!.NAME).toBe('Bob+1');
    expect(sb.ledger().map((e) => [e.id, e.via])).toEqual([
      [a, 'batch'],
      [b, 'batch'],
    ]);
    expect(res.body.time.processing).toBe(0); // 3 commands of 0.08 s or less: whole seconds round down
    // timeScale 0: the 0.21 s of server time pass at once, and `finish` is when the call really ended on the
    // clock its time is booked on (a finish ahead of that clock would mislead a client's portal clock)
    expect(res.body.time.finish).toBeGreaterThanOrEqual(res.body.time.start);
    expect(res.body.time.finish * 1000).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('answers HTTP 200 with failures in result_error, and runs everything with halt=0', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'batch', { halt: 0, cmd: { x1: upd(999, 'n'), x2: upd(a, 'ok'), x3: 'crm.lead.get?id=abc' } });
    expect(res.status).toBe(200);
    expect(res.body.result.result).toEqual({ x2: true });
    expect(res.body.result.result_error).toEqual({
      x1: { error: '', error_description: 'Lead is not found' },
      x3: { error: '', error_description: 'ID is not defined or invalid.' },
    });
    expect(Object.keys(res.body.result.result_time)).toEqual(['x2']);
  });

  it('with halt=1 stops at the first failure; later commands do not run and are missing from both maps', async () => {
    sb = await startSandbox();
    const [a, b] = sb.seedLeads([{}, {}]);
    const res = await callForm(
      sb,
      'batch',
      new URLSearchParams({ halt: '1', 'cmd[k1]': upd(a, 'A'), 'cmd[k2]': upd(777, 'x'), 'cmd[k3]': upd(b, 'B') }).toString(),
    );
    expect(res.status).toBe(200);
    expect(res.body.result.result).toEqual({ k1: true });
    expect(res.body.result.result_error).toEqual({ k2: { error: '', error_description: 'Lead is not found' } });
    expect(sb.lead(b)!.NAME).toBeNull();
  });

  it('returns JSON lists for an array cmd (keys 0..n-1) and objects once a key is missing', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const list = await callJson(sb, 'batch', { cmd: [upd(a, 'x'), upd(a, 'y')] });
    expect(list.body.result.result).toEqual([true, true]);
    expect(Array.isArray(list.body.result.result_time)).toBe(true);
    const gap = await callJson(sb, 'batch', { cmd: [upd(404, 'x'), upd(a, 'y')] });
    expect(gap.body.result.result).toEqual({ 1: true });
    // Key 0 alone is still a PHP list.
    expect(gap.body.result.result_error).toEqual([{ error: '', error_description: 'Lead is not found' }]);
  });

  it('runs the first 50 commands; the 51st and later each get ERROR_BATCH_LENGTH_EXCEEDED inside HTTP 200', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const cmd = Object.fromEntries(Array.from({ length: 53 }, (_, i) => [`r${i}`, upd(a, `n${i}`)]));
    const res = await callJson(sb, 'batch', { cmd });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.result.result)).toHaveLength(50);
    const exceeded = { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' };
    expect(res.body.result.result_error).toEqual({ r50: exceeded, r51: exceeded, r52: exceeded });
    expect(Object.keys(res.body.result.result_time)).toHaveLength(50);
    expect(sb.ledger()).toHaveLength(50);
    expect(sb.lead(a)!.NAME).toBe('n49');
    // With halt=1 the first refused command stops the batch.
    const halted = await callJson(sb, 'batch', { halt: 1, cmd });
    expect(Object.keys(halted.body.result.result_error)).toEqual(['r50']);
  });

  it('a nested batch is a per-command ERROR_BATCH_METHOD_NOT_ALLOWED; the other commands run', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'batch', { cmd: { u: upd(a, 'before'), n: 'batch?cmd%5Bx%5D=crm.lead.fields', v: upd(a, 'after') } });
    expect(res.status).toBe(200);
    expect(res.body.result.result).toEqual({ u: true, v: true });
    expect(res.body.result.result_error).toEqual({
      n: { error: 'ERROR_BATCH_METHOD_NOT_ALLOWED', error_description: 'Method is not allowed for batch usage' },
    });
    expect(sb.ledger()).toHaveLength(2);
  });

  it('an oversized body answers 413 with an HTML page, as the web server in front does; nothing runs', async () => {
    sb = await startSandbox({ maxBodyBytes: 2000 });
    const [a] = sb.seedLeads([{}]);
    const res = await callJson(sb, 'batch', { cmd: { a: upd(a, 'x'.repeat(3000)) } });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('413 Request Entity Too Large');
    expect(sb.ledger()).toHaveLength(0);
    expect((await callJson(sb, 'batch', { cmd: { a: upd(a, 'small') } })).status).toBe(200);
  });

  it('decodes double-encoded values and resolves $result references', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{ TITLE: 'Source title' }]);
    const res = await callJson(sb, 'batch', {
      cmd: {
        g: `crm.lead.get?id=${a}`,
        u: `crm.lead.update?id=$result[g][ID]&fields%5BCOMMENTS%5D=${encodeURIComponent('50% off & more = #1')}&fields%5BNAME%5D=$result[g][TITLE]`,
      },
    });
    expect(res.body.result.result_error).toEqual([]);
    expect(sb.lead(a)!.COMMENTS).toBe('50% off & more = #1');
    expect(sb.lead(a)!.NAME).toBe('Source title');
  });

  it('substitutes $result/$next/$total/$time/$error references in every value, as CRestUtil::processBatchElement does', async () => {
    sb = await startSandbox();
    const [a, b] = sb.seedLeads([{ TITLE: 'Src', COMMENTS: 'c' }, { TITLE: 'Other' }]);
    const enc = encodeURIComponent;
    const res = await callJson(sb, 'batch', {
      cmd: {
        g: `crm.lead.get?id=${a}`,
        l: `crm.lead.list?filter%5BID%5D=${a}&select%5B%5D=ID`,
        missing: `crm.lead.get?id=999`,
        // inside text: a string result is replaced, the rest of the token up to whitespace is eaten with it
        u1: `crm.lead.update?id=${b}&fields%5BCOMMENTS%5D=${enc('from $result[g][TITLE]! and $result[g][TITLE]x end')}`,
        // a number ($total) is not a string: left as written inside text
        u2: `crm.lead.update?id=${b}&fields%5BPOST%5D=${enc('price $total[l] USD')}`,
        // percent-encoding does not protect a CSV value: decoded first, then scanned
        u3: `crm.lead.update?id=${b}&fields%5BSOURCE_DESCRIPTION%5D=${enc('$error[missing][error_description]')}`,
        // an unresolvable path stops at the last node that exists: inside text (an array) it stays as written…
        u4: `crm.lead.update?id=${b}&fields%5BLAST_NAME%5D=${enc('x $result[nokey][ID]')}`,
        // …as the whole value it becomes that node (here the whole result map, which a string field ignores)
        u5: `crm.lead.update?id=${b}&fields%5BNAME%5D=${enc('$result[nokey][ID]')}`,
        // case-insensitive name, but looked up as written: $RESULT is null, and a whole value becomes empty
        u6: `crm.lead.update?id=${b}&fields%5BSECOND_NAME%5D=${enc('$RESULT[g][TITLE]')}`,
        // no [key] at all: nothing happens
        u7: `crm.lead.update?id=${b}&fields%5BADDRESS%5D=${enc('pay $result now')}`,
        // whole-value reference to a time block field (a number), and to a $next that does not exist
        u8: `crm.lead.update?id=$result[g][ID]&fields%5BUTM_TERM%5D=${enc('$time[g][start]')}`,
      },
    });
    expect(res.body.result.result_error).toEqual({ missing: { error: '', error_description: 'Not found' } });
    const lead = sb.lead(b)!;
    expect(lead.COMMENTS).toBe('from Src and Src end');
    expect(lead.POST).toBe('price $total[l] USD');
    expect(lead.SOURCE_DESCRIPTION).toBe('Not found');
    expect(lead.LAST_NAME).toBe('x $result[nokey][ID]');
    expect(lead.NAME).toBeNull();
    expect(lead.SECOND_NAME).toBe('');
    expect(lead.ADDRESS).toBe('pay $result now');
    expect(sb.lead(a)!.UTM_TERM).toBe(String(res.body.result.result_time.g.start));
  });

  it('carries params[REGISTER_SONET_EVENT] from a command into the ledger', async () => {
    sb = await startSandbox();
    const [a] = sb.seedLeads([{}]);
    await callJson(sb, 'batch', { cmd: { r: `${upd(a, 'x')}&params%5BREGISTER_SONET_EVENT%5D=N` } });
    expect(sb.ledger()[0]).toMatchObject({ id: a, via: 'batch', params: { REGISTER_SONET_EVENT: 'N' } });
  });
});
