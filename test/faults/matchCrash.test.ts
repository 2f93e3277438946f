/**
 * `--match` and a worker that dies after the portal applied its batch, before the chunk's checkpoint: the
 * retried chunk (run again from the same state, as the workflow does) must not look the keys up again where the
 * dead attempt's writes moved them. Here line 2 (keyed by a@…) adds b@… to lead A, so after the crash b@… is on
 * two leads; line 3 (keyed by b@…) was sent to B. The retry must report line 3 `updated` for B (the applied
 * journal holds the lead it was sent to), send nothing again, and give the other rows with b@… lead B too (the
 * journal holds the answers the dead attempt planned with), not AMBIGUOUS_MATCH.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../harness/sandbox/portal.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import { parseRunOptions } from '../../lambda/config.ts';
import { finalizeRun } from '../../lambda/report/finalize.ts';
import { runChunk } from '../../lambda/run/chunk.ts';
import { newRunState } from '../../lambda/run/drive.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import type { LeadSender } from '../../lambda/types.ts';

let sb: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  sb = dir = undefined;
});

/** What Lambda reports when the process dies: one of the errors the workflow retries. */
function killed(): Error {
  const err = new Error('worker killed');
  err.name = 'Runtime.ExitError';
  return err;
}

type Death = 'answers lost' | 'answers recorded';

describe('--match: a chunk killed after its batch was applied, before its checkpoint', () => {
  it.each<Death>(['answers lost', 'answers recorded'])(
    'killed with the %s: the retry reports each row for the lead it was sent to, writes nothing twice',
    async (death) => {
      sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
      const [a, b] = sb.seedLeads([
        { TITLE: 'A', EMAIL: [{ VALUE: 'a@example.com', VALUE_TYPE: 'WORK' }] },
        { TITLE: 'B', EMAIL: [{ VALUE: 'b@example.com', VALUE_TYPE: 'WORK' }] },
      ]);
      // Chunk 1 = lines 2–4: line 2 gives A the e-mail b@… too; line 4 asks nothing B lacks (unchanged, never
      // sent). Chunk 2 = line 5.
      const csv = [
        'EMAIL_WORK,EMAIL_HOME,TITLE,COMMENTS',
        'a@example.com,b@example.com,A new,',
        'b@example.com,,B new,',
        'B@example.com,,,',
        'b@example.com,,,later',
      ].join('\n');
      dir = await mkdtemp(join(tmpdir(), 'match-crash-'));
      await writeFile(join(dir, 'in.csv'), `${csv}\n`);
      const source = new FsStore(dir);
      const output = new FsStore(join(dir, 'out'));
      const options = parseRunOptions({ match: 'EMAIL' });
      let state = newRunState({
        source: { bucket: '', ...(await source.head('in.csv')) },
        reportPrefix: '',
        partsPrefix: '.parts/',
        options,
      });

      let kills = 0;
      let writesAtDeath = -1;
      while (!state.checkpoint.done) {
        // Each attempt is a fresh worker: its own session, nothing in memory from the one before.
        const session = await openPortal(sb.webhookUrl, options, { timeoutMs: 5000, backoffMs: 20 });
        const sender: LeadSender = {
          stats: () => session.sender.stats(),
          send: async (rows, deadline, hooks = {}) => {
            if (kills > 0) return session.sender.send(rows, deadline, hooks);
            // The first attempt's batch reaches the portal; with 'answers lost' the worker dies before any
            // answer is on its journal (only the `sending` records were stored), else right after.
            const { settled, ...beforeAnswers } = hooks;
            await session.sender.send(rows, deadline, death === 'answers lost' ? beforeAnswers : { ...beforeAnswers, settled });
            kills++;
            writesAtDeath = sb!.ledger().length;
            throw killed();
          },
        };
        try {
          state = await runChunk(state, {
            source,
            output,
            catalogue: session.catalogue,
            sender,
            deadline: Date.now() + 60_000,
            maxChunkRows: 3,
          });
        } catch (e) {
          if ((e as Error).name !== 'Runtime.ExitError') throw e;
        }
      }
      const summary = await finalizeRun(state, output);
      const report = parse(await readFile(join(dir, 'out', 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];

      expect(kills).toBe(1);
      // The dead attempt applied lines 2 and 3; b@… is now on A as well as B.
      expect(writesAtDeath).toBe(2);
      expect(sb.lead(a)!.EMAIL!.map((e) => e.VALUE)).toEqual(['a@example.com', 'b@example.com']);
      expect(report.map((x) => [x.line, x.id, x.status, x.error_code])).toEqual([
        ['2', String(a), 'updated', ''],
        ['3', String(b), 'updated', ''],
        ['4', String(b), 'unchanged', ''],
        ['5', String(b), 'updated', ''],
      ]);
      // Nothing written twice: the retry sent nothing for lines 2–4; line 5 is the one write after the death.
      const writes = sb.ledger().filter((e) => e.method === 'crm.lead.update');
      expect(writes.map((w) => [w.id, w.fields.TITLE ?? null, w.fields.COMMENTS ?? null])).toEqual([
        [a, 'A new', null],
        [b, 'B new', null],
        [b, null, 'later'],
      ]);
      expect([sb.lead(a)!.TITLE, sb.lead(b)!.TITLE, sb.lead(b)!.COMMENTS]).toEqual(['A new', 'B new', 'later']);
      expect(summary.counts).toMatchObject({ updated: 3, unchanged: 1, failed: 0 });
      expect(await output.list('.parts/')).toEqual([]);
    },
    30_000,
  );
});
