/**
 * The shrunken window (10 s window, 8 s budget, rate 2/s burst 50, timeScale 1) with crm.lead.update costs that
 * vary fivefold from batch to batch, as automation rules make them: each request's cost is drawn (seeded) from
 * 0.1–0.5 s scaled by 1/12 as in window.bench.ts (0.2 s → 1/60 s), the 0.1 s minimal fix time scaled alike.
 * 20,000 rows of two changed fields through the built CLI (default concurrency unless `--concurrency N`).
 * `npx tsx bench/varying.bench.ts [--rows 20000] [--concurrency N] [--seed 7]`
 *
 * What the budget allowed: the booked update seconds ÷ (8 s per 10 s) is the least time the budget lets them
 * take; the figure is that time over the wall time (= rows/s against the budget's rows/s). Target ≥ 95 %.
 * The sandbox's cost hook draws each request's cost once (its commands share it) and tallies what it books.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../harness/sandbox/faults.ts';
import { type CostHook, startSandbox } from '../harness/sandbox/portal.ts';
import { progress, runCli, twoFieldImport, runFigures } from './support/cliRun.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const ROWS = Number(arg('rows') ?? 20_000);
const SEED = Number(arg('seed') ?? 7);
const CONCURRENCY = arg('concurrency');
const LIMITS = { rate: 2, burst: 50, operatingLimit: 8, operatingWindow: 10 };
const SCALE = 1 / 12;
const MIN_FIX = 0.1 * SCALE;

const costs = varyingCosts(mulberry32(SEED), MIN_FIX);
const sb = await startSandbox({ ...LIMITS, operatingMinFix: MIN_FIX, timeScale: 1, cost: costs.hook });
const dir = await mkdtemp(join(tmpdir(), 'varying-bench-'));
try {
  const file = await twoFieldImport(sb, ROWS, dir);
  const flags = ['--rate', '2', '--burst', '50', '--operating-limit', '8', '--operating-window', '10'];
  if (CONCURRENCY) flags.push('--concurrency', CONCURRENCY);
  const run = await runCli(file, flags, sb.webhookUrl, progress(sb, ROWS));
  const booked = costs.booked();
  const budgetSeconds = booked.seconds / (LIMITS.operatingLimit / LIMITS.operatingWindow);
  const ofBudget = budgetSeconds / run.seconds;
  const figures = runFigures(run, sb, flags, ROWS);
  console.log(
    JSON.stringify(
      {
        ...figures,
        budgetRowsPerS: Number((ROWS / budgetSeconds).toFixed(2)),
        ofBudget: `${(ofBudget * 100).toFixed(1)} %`,
        bookedUpdateSeconds: Number(booked.seconds.toFixed(2)),
        updateCommands: booked.commands,
        pricedRequests: booked.requests,
        meanCostPerUpdate: Number((booked.seconds / Math.max(1, booked.commands)).toFixed(4)),
      },
      null,
      2,
    ),
  );
  const ok = run.code === 0 && figures.updated === ROWS && ofBudget >= 0.95 && figures.http429 === 0 && figures.http503 === 0;
  console.log(ok ? 'varying bench: target met' : 'varying bench: TARGET MISSED');
  process.exitCode = ok ? 0 : 1;
} finally {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
}

/** crm.lead.update costs drawn per request (0.1–0.5 s, scaled), and the seconds the sandbox books of them. */
function varyingCosts(random: () => number, minFix: number) {
  const perRequest = new Map<number, number>();
  const tally = { commands: 0, seconds: 0, requests: 0 };
  const hook: CostHook = (method, _params, request) => {
    if (method !== 'crm.lead.update') return undefined;
    let cost = perRequest.get(request);
    if (cost === undefined) {
      cost = (0.1 + 0.4 * random()) * SCALE;
      perRequest.set(request, cost);
      tally.requests++;
    }
    tally.commands++;
    if (cost > minFix) tally.seconds += cost;
    return cost;
  };
  return { hook, booked: () => ({ ...tally }) };
}
