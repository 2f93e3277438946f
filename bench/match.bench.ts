/**
 * `--match EMAIL` key resolution at scale, 10,000 e-mail keys (90 % one lead, 5 % two, 5 % none):
 * 1. in process against the sandbox's own findbycomm and lead store, counting requests;
 * 2. end to end: the built CLI's dry run (it resolves and reads, writes nothing) against the sandbox at the cloud
 *    defaults (2 req/s, burst 50, its default command costs, timeScale 1), once keyed by e-mail and once by the
 *    same leads' IDs: what matching adds over an ID-keyed run, in requests and booked operating seconds.
 * Target (#13): at most 12 requests for the resolution (50 findbycomm × 20 values = 1,000 keys a request);
 * the candidate read is the read the diff makes anyway.
 * `npx tsx bench/match.bench.ts [keys]` (default 10000).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../harness/sandbox/portal.ts';
import { runCli } from './support/cliRun.ts';
import { matchLeads, resolveBench } from './support/resolveKeys.ts';

const n = Number(process.argv[2] ?? 10_000);
const f = await resolveBench(n);
const dir = await mkdtemp(join(tmpdir(), 'match-bench-'));
try {
  const byEmail = await dryRun(dir, 'email');
  const byId = await dryRun(dir, 'id');
  const added = (k: 'requests' | 'operatingSeconds') => Number((byEmail[k] - byId[k]).toFixed(2));
  console.log(
    JSON.stringify(
      {
        keys: f.keys,
        findbycommRequests: f.searchRequests,
        candidateReadRequests: f.readRequests,
        valuesPerCommand: f.maxValues,
        commandsPerRequest: f.maxCommands,
        matched: f.matched,
        ambiguous: f.ambiguous,
        noMatch: f.none,
        ms: Math.round(f.ms),
        endToEnd: { byEmail, byId, matchingAdds: { requests: added('requests'), operatingSeconds: added('operatingSeconds') } },
      },
      null,
      2,
    ),
  );
  const ok = f.searchRequests <= 12 && byEmail.exit !== 2 && added('requests') <= 12;
  console.log(ok ? 'match bench: target met' : 'match bench: TARGET MISSED');
  process.exitCode = ok ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** One dry run on a fresh sandbox, the file keyed by e-mail (no ID column) or by the first holder's ID. */
async function dryRun(root: string, keyedBy: 'email' | 'id') {
  const sb = await startSandbox({ rate: 2, burst: 50, operatingLimit: 480, operatingWindow: 600, timeScale: 1 });
  try {
    const { keys, firstHolder } = matchLeads(n, (leads) => sb.seedLeads(leads));
    const lines =
      keyedBy === 'email'
        ? keys.map((k, i) => `${k};new title ${i}`)
        : keys.flatMap((_, i) => (firstHolder[i] ? [`${firstHolder[i]};new title ${i}`] : []));
    const file = join(await mkdtemp(join(root, `${keyedBy}-`)), 'leads.csv');
    await writeFile(file, `${keyedBy === 'email' ? 'EMAIL' : 'ID'};TITLE\n${lines.join('\n')}\n`);
    const run = await runCli(file, keyedBy === 'email' ? ['--match', 'EMAIL', '--dry-run'] : ['--dry-run'], sb.webhookUrl);
    const stats = sb.stats();
    return {
      rows: lines.length,
      exit: run.code,
      seconds: Number(run.seconds.toFixed(1)),
      requests: stats.requests,
      batchCommands: stats.batchCommands,
      operatingSeconds: Number(
        Object.values(stats.operating)
          .reduce((a, b) => a + b, 0)
          .toFixed(2),
      ),
      operatingByMethod: stats.operating,
      counts: run.summary.counts,
    };
  } finally {
    await sb.close();
  }
}
