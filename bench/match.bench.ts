/**
 * `--match EMAIL` key resolution at scale: 10,000 e-mail keys (90 % one lead, 5 % two, 5 % none) resolved in
 * bulk against the sandbox's own findbycomm and lead store, in process, counting requests.
 * Target (#13): at most 12 requests for the resolution (50 findbycomm × 20 values = 1,000 keys a request);
 * the candidate read is the read the diff makes anyway.
 * `npx tsx bench/match.bench.ts [keys]` (default 10000).
 */
import { resolveBench } from './support/resolveKeys.ts';

const n = Number(process.argv[2] ?? 10_000);
const f = await resolveBench(n);
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
    },
    null,
    2,
  ),
);
