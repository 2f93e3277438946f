/**
 * The sending stage at the portal's limits: a 20,000-row import against the sandbox portal.
 * `npx tsx bench/portal.bench.ts [--rows 20000] [--rate 2] [--burst 50] [--operating-limit 16]
 *   [--operating-window 20] [--cost 0.009] [--window 2500] [--no-cross]`
 *
 * Limits: the real plan's request rate (2 req/s, burst 50) and an operating budget scaled down in time
 * (16 s of server time per 20 s window, 10 buckets) with a per-update cost of 0.009 s, so BOTH limits bind:
 * the request rate allows 2 × 50 = 100 rows/s, the budget 16 / 0.009 / 20 ≈ 88.9 rows/s in steady state
 * (the first window runs at the rate limit). The client gets the same numbers through RunOptions.limits,
 * as the CLI's --rate --burst --operating-limit --operating-window flags would pass them.
 * Rows go to sender.send in windows of SENDER_WINDOW (2,500), as the engine hands them. Each row sets TITLE; every fourth
 * also appends a phone. Target: ≥ 95 % of the ceiling, zero OPERATION_TIME_LIMIT, < 1 % of requests refused.
 */
import { createClient } from '../lambda/calls/client.ts';
import { createSender } from '../lambda/calls/sender.ts';
import { parseRunOptions } from '../lambda/config.ts';
import { startSandbox } from '../harness/sandbox/portal.ts';
import type { LeadFields, RowOutcome, ValidRow } from '../lambda/types.ts';
import { SENDER_WINDOW } from '../lambda/run/window.ts';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const ROWS = arg('rows', 20_000);
const RATE = arg('rate', 2);
const BURST = arg('burst', 50);
const OP_LIMIT = arg('operating-limit', 16);
const OP_WINDOW = arg('operating-window', 20);
const COST = arg('cost', 0.009);
const WINDOW = arg('window', SENDER_WINDOW);

const sb = await startSandbox({
  rate: RATE,
  burst: BURST,
  operatingLimit: OP_LIMIT,
  operatingWindow: OP_WINDOW,
  costs: { 'crm.lead.update': COST },
  latencyMs: { request: 30 },
});
try {
  const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${i}` })));
  const rows: ValidRow[] = ids.map((id, i) => ({
    line: i + 2,
    id,
    fields: (i % 4 === 0
      ? { TITLE: `new ${i}`, PHONE: [{ VALUE: `+7900${i}`, VALUE_TYPE: 'WORK' }] }
      : { TITLE: `new ${i}` }) as LeadFields,
    clears: [],
    warnings: [],
    raw: '',
  }));
  const options = parseRunOptions({
    diff: false,
    limits: { rate: RATE, burst: BURST, operatingLimit: OP_LIMIT, operatingWindow: OP_WINDOW },
  });
  // --no-cross: every command must end within the budget (the pacer's default lets the last one cross it).
  const cross = !process.argv.includes('--no-cross');
  const client = createClient({ webhookUrl: sb.webhookUrl, limits: options.limits, throttle: { operating: { cross } } });
  const sender = createSender({ api: client, options });

  const t0 = Date.now();
  const outcomes: RowOutcome[] = [];
  let lastPrint = t0;
  for (let i = 0; i < rows.length; i += WINDOW) {
    outcomes.push(...(await sender.send(rows.slice(i, i + WINDOW), Date.now() + 600_000)));
    if (Date.now() - lastPrint > 30_000) {
      lastPrint = Date.now();
      const s = (lastPrint - t0) / 1000;
      console.log(
        `  … ${outcomes.length} rows in ${s.toFixed(0)} s (${(outcomes.length / s).toFixed(1)} rows/s), operating ${JSON.stringify(sb.stats().operating)}`,
      );
    }
  }
  const seconds = (Date.now() - t0) / 1000;

  const rateCeiling = RATE * 50;
  const opCeiling = OP_LIMIT / COST / OP_WINDOW;
  const ceiling = Math.min(rateCeiling, opCeiling);
  const achieved = ROWS / seconds;
  const st = sb.stats();
  const refused = (st.refusals.QUERY_LIMIT_EXCEEDED ?? 0) + (st.refusals.OPERATION_TIME_LIMIT ?? 0);
  const topRequests = st.requests;
  const updated = outcomes.filter((o) => o.status === 'updated').length;
  const dupes = st.writes - ROWS;
  const figures = {
    rows: ROWS,
    updated,
    seconds: Number(seconds.toFixed(1)),
    rowsPerS: Number(achieved.toFixed(2)),
    ceilingRowsPerS: Number(ceiling.toFixed(2)),
    rateCeiling,
    operatingCeiling: Number(opCeiling.toFixed(2)),
    ofCeiling: `${((achieved / ceiling) * 100).toFixed(1)} %`,
    requests: topRequests,
    http503: st.refusals.QUERY_LIMIT_EXCEEDED ?? 0,
    http429: st.refusals.OPERATION_TIME_LIMIT ?? 0,
    refusedShare: `${((refused / Math.max(1, topRequests)) * 100).toFixed(2)} %`,
    duplicateWrites: dupes,
    client: sender.stats(),
    peakOperating: client.throttle.peakOperating(),
  };
  console.log(JSON.stringify(figures, null, 2));
  const ok =
    achieved >= 0.95 * ceiling && (st.refusals.OPERATION_TIME_LIMIT ?? 0) === 0 && refused < 0.01 * topRequests && updated === ROWS;
  console.log(ok ? 'portal bench: target met' : 'portal bench: TARGET MISSED');
  process.exitCode = ok ? 0 : 1;
} finally {
  await sb.close();
}
