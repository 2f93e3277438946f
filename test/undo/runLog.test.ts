import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { noLogReason, readRunLog } from '../../lambda/undo/runLog.ts';
import { undoInput, undoInputText } from '../../lambda/undo/undoInput.ts';

/**
 * One reader of a run's change log for the CLI and the start function, and one wording of why a run cannot be
 * undone. S3 answers a role without s3:ListBucket (the start function's) AccessDenied for a missing key: that
 * must read as "no such run", not as a permissions failure, when there is no summary either.
 */
describe('readRunLog', () => {
  it('reads changes.jsonl under the prefix, pinned to the version it heads', async () => {
    const root = await mkdtemp(join(tmpdir(), 'runlog-'));
    await writeFile(join(root, 'changes.jsonl'), '{"line":2,"id":1,"field":"TITLE","before":"a","after":"b"}\n');
    const log = await readRunLog(new FsStore(root), '', 'run');
    expect(log).toMatchObject({ jsonl: '{"line":2,"id":1,"field":"TITLE","before":"a","after":"b"}\n', info: { size: 59 } });
    expect('info' in log && log.info.etag).toBeTruthy();
  });

  it("without a log, the run's summary says why: --no-diff, a dry run, a run from before logs; no summary: no run", async () => {
    const root = await mkdtemp(join(tmpdir(), 'runlog-'));
    const store = new FsStore(root);
    const summary = (folder: string, s: object) => store.write(`${folder}/summary.json`, JSON.stringify(s));
    await summary('blind', { dryRun: false, changeLog: false });
    await summary('dry', { dryRun: true, changeLog: false });
    await summary('old', { dryRun: false });
    expect(await readRunLog(store, 'blind/', 'blind')).toEqual({
      problem: 'blind: that run has no change log (it ran with --no-diff, which reads nothing), so it cannot be undone',
    });
    expect(await readRunLog(store, 'dry/', 'dry')).toEqual({
      problem: 'dry: that run has no change log (a dry run), so it cannot be undone',
    });
    expect(await readRunLog(store, 'old/', 'old')).toEqual({
      problem: 'old: that run has no change log (it ran before runs kept one), so it cannot be undone',
    });
    expect(await readRunLog(store, 'none/', 'none')).toEqual({
      problem: "none is not a run's report folder with a change log (changes.jsonl)",
    });
  });

  it('a log over the limit is refused before it is read, saying what to do instead', async () => {
    const root = await mkdtemp(join(tmpdir(), 'runlog-'));
    await writeFile(join(root, 'changes.jsonl'), 'x'.repeat(3 * 1024 ** 2));
    expect(await readRunLog(new FsStore(root), '', 'big', { bytes: 1024 ** 2, instead: 'use the CLI' })).toEqual({
      problem: 'big: its change log (changes.jsonl) is 3.0 MB, more than the 1.0 MB read here; use the CLI',
    });
  });
});

describe('noLogReason, as S3 answers', () => {
  const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
  it("AccessDenied without a summary: no run's report folder (a role that may not list sees a missing key so)", () => {
    expect(noLogReason('reports/a.csv/r1/', undefined, denied)).toBe(
      "reports/a.csv/r1/ is not a run's report folder with a change log (changes.jsonl)",
    );
    expect(noLogReason('reports/a.csv/r1/', undefined, Object.assign(new Error(''), { name: 'NotFound' }))).toMatch(/is not a run's/);
  });

  it('a summary that says the run kept a log, and the log unreadable: the error, named', () => {
    expect(noLogReason('reports/a.csv/r1/', '{"changeLog":true}', denied)).toBe(
      'cannot read reports/a.csv/r1/changes.jsonl: AccessDenied: Access Denied',
    );
    expect(noLogReason('reports/a.csv/r1', 'not json', Object.assign(new Error('slow down'), { name: 'SlowDown' }))).toBe(
      'cannot read reports/a.csv/r1/changes.jsonl: SlowDown: slow down',
    );
  });
});

describe('undoInput', () => {
  it("groups a lead's entries into one row in the order the run first changed it; the cell is a JSON list of them", () => {
    const jsonl = [
      { line: 2, id: 5, field: 'TITLE', before: 'a', after: 'b' },
      { line: 3, id: 9, field: 'NAME', before: '', after: 'Ann "A"' },
      { line: 4, id: 5, field: 'PHONE:WORK#7', before: '+1', after: '', types: ['WORK', ''] },
    ]
      .map((e) => `${JSON.stringify(e)}\n`)
      .join('');
    const input = undoInput(`${jsonl}\n`);
    expect(input).toMatchObject({ leads: 2, entries: 3 });
    expect(undoInputText(input)).toBe(
      'ID,CHANGES\r\n' +
        '5,"[{""line"":2,""id"":5,""field"":""TITLE"",""before"":""a"",""after"":""b""},' +
        '{""line"":4,""id"":5,""field"":""PHONE:WORK#7"",""before"":""+1"",""after"":"""",""types"":[""WORK"",""""]}]"\r\n' +
        '9,"[{""line"":3,""id"":9,""field"":""NAME"",""before"":"""",""after"":""Ann \\""A\\""""}]"\r\n',
    );
    expect(() => undoInput('{"id":1}\n')).toThrow('changes.jsonl line 1 is not a change-log entry');
    expect(() => undoInput('\n\nnope\n')).toThrow('changes.jsonl line 3 is not JSON');
  });
});
