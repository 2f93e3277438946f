/**
 * Diff mode on a 10,000-row file against the sandbox portal at realistic limits, time-scaled.
 * `npx tsx bench/diff.bench.ts [rows] [scale] [window]` (default 10000 10 2500).
 *
 * The sandbox runs the real plan's limits sped up `scale` times: drain 2 × scale req/s, burst 50, operating
 * budget 480 s / scale in a 600 s / scale window, per-command server time (sandbox DEFAULT_COSTS) / scale.
 * The client gets the same limits, so it paces itself as it would against a real portal. Figures:
 * - requests, reads and writes: exact counts (the sandbox's own stats and ledger);
 * - operating seconds: what the run bills at real (unscaled) per-command costs;
 * - wallS: measured at scale (this machine's CPU included); pacedS: the real plan's pacing floor with an
 *   empty bucket (requests ÷ 2 req/s); rowsPerS = rows ÷ max(wallS, pacedS).
 * For comparison, --no-diff would send every row: rows ÷ 50 write requests and rows × 0.08 s of operating
 * time (10,000 rows: 200 requests, 800 s, past the 480 s budget, so the method blocks for up to 10 min).
 *
 * Scenarios, on one sandbox seeded with `rows` random leads (80 % with a phone, 70 % with an e-mail):
 * 1. first import of a file that matches the portal already (what a re-run of an applied file sees);
 * 2. re-run of the same unchanged file (target: zero writes, reads only);
 * 3. a file with 10 % of rows changed (new title; half of those also a new mobile phone);
 * 4. re-run of that file (zero writes again).
 */
import { createClient } from '../lambda/calls/client.ts';
import { createDiffPlanner } from '../lambda/calls/planning/diff.ts';
import { loadCatalogue } from '../lambda/calls/preflight.ts';
import { createSender } from '../lambda/calls/sender.ts';
import { parseRunOptions, type RunOptions } from '../lambda/config.ts';
import { standardCatalogue } from '../lambda/payloads/fields.ts';
import { resolveHeader } from '../lambda/payloads/header.ts';
import { compileRows } from '../lambda/payloads/compile.ts';
import { DEFAULT_COSTS } from '../harness/sandbox/limits.ts';
import { startSandbox, type Sandbox } from '../harness/sandbox/portal.ts';
import type { Catalogue, LeadRecord, RowOutcome, ValidRow } from '../lambda/types.ts';
import { SENDER_WINDOW } from '../lambda/run/window.ts';

const ROWS = Number(process.argv[2] ?? 10_000);
const SCALE = Number(process.argv[3] ?? 10);
/** Rows per sender.send, as the engine hands them (SENDER_WINDOW: one planner read of ≤ 2,500 leads). */
const WINDOW = Number(process.argv[4] ?? SENDER_WINDOW);

const HEADER = ['ID', 'TITLE', 'NAME', 'LAST_NAME', 'STATUS_ID', 'SOURCE_ID', 'OPPORTUNITY', 'CURRENCY_ID', 'PHONE_WORK', 'EMAIL_WORK'];

/** The file a user would export from this portal: every value as the portal holds it (OPPORTUNITY "12.50"…). */
function cellsOf(lead: LeadRecord): string[] {
  const v = (k: string) => (lead[k] === null || lead[k] === undefined ? '' : String(lead[k]));
  return [
    lead.ID,
    v('TITLE'),
    v('NAME'),
    v('LAST_NAME'),
    v('STATUS_ID'),
    v('SOURCE_ID'),
    v('OPPORTUNITY'),
    v('CURRENCY_ID'),
    (lead.PHONE ?? []).map((p) => p.VALUE).join(' | '),
    (lead.EMAIL ?? []).map((p) => p.VALUE).join(' | '),
  ];
}

function compile(records: string[][], options: RunOptions, catalogue: Catalogue): ValidRow[] {
  const columns = resolveHeader(HEADER, { mapping: {}, catalogue });
  const check = compileRows(columns, options, catalogue, HEADER.length);
  return records.map((cells, i) => {
    const r = check({ line: i + 2, cells, raw: cells.join(','), start: 0, end: 0 });
    if (!r.ok) throw new Error(r.outcome.message);
    return r.row;
  });
}

interface Figures {
  scenario: string;
  requests: number;
  listCommands: number;
  writes: number;
  /** Server time billed at real per-command costs, s. */
  operatingS: number;
  /** Measured wall time at × SCALE limits, s. */
  wallS: number;
  /** Real plan, empty bucket: requests ÷ 2 req/s, s (the pacing floor; a full bucket absorbs the first 50). */
  pacedS: number;
  /** rows ÷ max(wallS, pacedS): throughput at real limits when the bucket is empty. */
  rowsPerS: number;
  outcomes: string;
}

async function run(sb: Sandbox, scenario: string, rows: ValidRow[], options: RunOptions): Promise<Figures> {
  const before = sb.stats();
  const ledgerBefore = sb.ledger().length;
  const t0 = performance.now();
  const api = createClient({ webhookUrl: sb.webhookUrl, limits: options.limits });
  const catalogue = await loadCatalogue(api, standardCatalogue());
  const sender = createSender({ api, planner: createDiffPlanner({ api, options, catalogue }), options });
  const outcomes: RowOutcome[] = [];
  for (let i = 0; i < rows.length; i += WINDOW) outcomes.push(...(await sender.send(rows.slice(i, i + WINDOW), Date.now() + 3_600_000)));
  const wallS = (performance.now() - t0) / 1000;
  const after = sb.stats();
  const delta = (m: Record<string, number>, n: Record<string, number>, k: string) => (m[k] ?? 0) - (n[k] ?? 0);
  let operating = 0;
  for (const method of new Set([...Object.keys(after.batchCommands), ...Object.keys(after.byMethod)])) {
    const n =
      delta(after.batchCommands, before.batchCommands, method) + (method === 'batch' ? 0 : delta(after.byMethod, before.byMethod, method));
    operating += n * (DEFAULT_COSTS[method] ?? DEFAULT_COSTS.default);
  }
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  const requests = after.requests - before.requests;
  const pacedS = requests / 2;
  return {
    scenario,
    requests,
    listCommands: delta(after.batchCommands, before.batchCommands, 'crm.lead.list'),
    writes: sb.ledger().length - ledgerBefore,
    operatingS: Math.round(operating * 100) / 100,
    wallS: Math.round(wallS * 100) / 100,
    pacedS,
    rowsPerS: Math.round(rows.length / Math.max(wallS, pacedS)),
    outcomes: Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  };
}

async function main(): Promise<void> {
  const costs = Object.fromEntries(Object.entries(DEFAULT_COSTS).map(([k, v]) => [k, v / SCALE]));
  const sb = await startSandbox({ rate: 2 * SCALE, burst: 50, operatingLimit: 480 / SCALE, operatingWindow: 600 / SCALE, costs, seed: 7 });
  const options = parseRunOptions({
    limits: { rate: 2 * SCALE, burst: 50, operatingLimit: 480 / SCALE, operatingWindow: 600 / SCALE, concurrency: 4 },
  });
  try {
    const ids = sb.seedRandom(ROWS, 7);
    const api = createClient({ webhookUrl: sb.webhookUrl, limits: options.limits });
    const catalogue = await loadCatalogue(api, standardCatalogue());
    const same = compile(
      ids.map((id) => cellsOf(sb.lead(id)!)),
      options,
      catalogue,
    );
    const changed = compile(
      ids.map((id, i) => {
        const cells = cellsOf(sb.lead(id)!);
        if (i % 10 === 0) {
          cells[1] = `${cells[1]} (updated)`;
          if (i % 20 === 0) cells[8] = [cells[8], `+1 555 ${String(100_000 + i).slice(-6)}`].filter(Boolean).join(' | ');
        }
        return cells;
      }),
      options,
      catalogue,
    );
    const results: Figures[] = [];
    results.push(await run(sb, '1 import of a file the portal already matches', same, options));
    results.push(await run(sb, '2 re-run of the unchanged file', same, options));
    results.push(await run(sb, '3 file with 10% of rows changed', changed, options));
    results.push(await run(sb, '4 re-run of the 10%-changed file', changed, options));
    console.log(
      `diff bench: ${ROWS} rows, windows of ${WINDOW}, limits × ${SCALE} (real plan: 2 req/s, burst 50, 480 s operating / 600 s)`,
    );
    console.table(results);
    const blindOperating = ROWS * DEFAULT_COSTS['crm.lead.update'];
    console.log(
      `--no-diff on the same file: ${Math.ceil(ROWS / 50)} write requests, ${blindOperating.toFixed(0)} s operating` +
        (blindOperating > 480 ? ' (over the 480 s budget: OPERATION_TIME_LIMIT blocks for up to 10 min)' : ''),
    );
  } finally {
    await sb.close();
  }
}

await main();
