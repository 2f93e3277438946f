/**
 * Debug aid: bench/varying's setup (shrunken window, per-request costs 0.1–0.5 s scaled by 1/12, seeded) run
 * in-process through the sender (diff planner, windows of 2,500 rows as the CLI sends them), with a timeline:
 * per request its send and end, method, commands, the cost the sandbox booked, the `operating` the portal
 * reported, the pacer's view (reported, worst cost) and the sandbox's true operating at send; per bucket
 * expiry (the sandbox's operating dropping) how much was freed and how long until the next update went.
 * Prints a summary of where the wall time went; `--lines` prints the timeline too.
 * `npx tsx bench/support/timeline.ts [--rows 5000] [--concurrency 1] [--seed 7] [--fixed 0.01667] [--no-cross] [--lines]`
 */
import { parseRunOptions } from '../../lambda/config.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import { mulberry32 } from '../../harness/sandbox/faults.ts';
import { type CostHook, startSandbox } from '../../harness/sandbox/portal.ts';

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
}
const ROWS = Number(arg('rows', '5000'));
const SCALE = 1 / 12;
const MIN_FIX = 0.1 * SCALE;
const LIMITS = { rate: 2, burst: 50, operatingLimit: 8, operatingWindow: 10 };
const FIXED = process.argv.includes('--fixed') ? Number(arg('fixed', String(0.2 * SCALE))) : undefined;
const random = mulberry32(Number(arg('seed', '7')));
const perRequest = new Map<number, number>();
const hook: CostHook = (method, _p, request) => {
  if (method !== 'crm.lead.update') return undefined;
  let c = perRequest.get(request);
  if (c === undefined) {
    c = FIXED ?? (0.1 + 0.4 * random()) * SCALE;
    perRequest.set(request, c);
  }
  return c;
};
const sb = await startSandbox({ ...LIMITS, operatingMinFix: MIN_FIX, timeScale: 1, cost: hook });
const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${i}`, NAME: `Old${i}` })));
const t0 = performance.now();
const at = () => (performance.now() - t0) / 1000;
const trueOp = () => sb.stats().operating['crm.lead.update'] ?? 0;

interface Req {
  sent: number;
  ended: number;
  kind: string;
  n: number;
  booked: number;
  reported: number;
  opAtSend: number;
  pacerRep: number;
  worst: number;
}
const reqs: Req[] = [];
const expiries: { t: number; freed: number; opAfter: number }[] = [];
let lastOp = 0;
const poll = setInterval(() => {
  const op = trueOp();
  if (op < lastOp - 1e-9) expiries.push({ t: at(), freed: lastOp - op, opAfter: op });
  lastOp = op;
}, 5);

const holder: { api?: unknown } = {};
const traced: typeof fetch = async (url, init) => {
  const body = JSON.parse(String(init?.body ?? '{}'));
  const n = body.cmd ? Object.keys(body.cmd).length : 1;
  const first = body.cmd ? String(Object.values(body.cmd)[0]).split('?')[0] : String(url).split('/').pop();
  // biome-ignore lint/suspicious/noExplicitAny: a debug aid reads the budget's private state
  const throttle = (holder.api as any)?.throttle;
  const b = throttle?.budget('crm.lead.update');
  const r: Req = {
    sent: at(),
    ended: 0,
    kind: first ?? '?',
    n,
    booked: 0,
    reported: Number.NaN,
    opAtSend: trueOp(),
    pacerRep: b?.reported?.operating ?? 0,
    worst: b ? b.worstCost(throttle.clock.portalNow()) : 0,
  };
  const seqBefore = Math.max(0, ...perRequest.keys());
  const res = await fetch(url, init);
  const text = await res.text();
  r.ended = at();
  const seq = Math.max(0, ...perRequest.keys());
  if (first === 'crm.lead.update' && seq > seqBefore) {
    const c = perRequest.get(seq) ?? 0;
    r.booked = c > MIN_FIX ? c * n : 0;
  }
  try {
    const j = JSON.parse(text);
    const times = j?.result?.result_time ? Object.values(j.result.result_time) : [];
    const ops = times.map((t) => Number((t as { operating: number }).operating)).filter(Number.isFinite);
    if (ops.length) r.reported = Math.max(...ops);
  } catch {}
  reqs.push(r);
  return new Response(text, { status: res.status, headers: res.headers });
};
const options = parseRunOptions({ limits: { ...LIMITS, concurrency: Number(arg('concurrency', '1')) } });
const cross = !process.argv.includes('--no-cross');
const session = await openPortal(
  sb.webhookUrl,
  { ...options, diff: true },
  { fetch: traced, localMode: true, throttle: { operating: { cross } } },
);
holder.api = session.api;
const rows = ids.map((id, i) => ({ line: i + 2, id, fields: { TITLE: `new ${i}`, NAME: `New${i}` }, clears: [], warnings: [] }));
const W = 2500;
const tStart = at();
for (let i = 0; i < rows.length; i += W) {
  // biome-ignore lint/suspicious/noExplicitAny: a debug aid
  await session.sender.send(rows.slice(i, i + W) as any, Date.now() + 3_600_000);
}
const wall = at() - tStart;
clearInterval(poll);

const updates = reqs.filter((r) => r.kind === 'crm.lead.update');
const booked = updates.reduce((s, r) => s + r.booked, 0);
const ideal = booked / (LIMITS.operatingLimit / LIMITS.operatingWindow);
const busy = (list: Req[]) => list.reduce((s, r) => s + (r.ended - r.sent), 0);
const reads = reqs.filter((r) => r.kind !== 'crm.lead.update');
if (process.argv.includes('--lines')) {
  console.log('sent\tended\tkind\tn\tbooked\tcost/cmd\topAtSend\tleft\treported\tpacerRep\tworst/cmd');
  for (const r of reqs)
    console.log(
      [r.sent, r.ended].map((x) => x.toFixed(3)).join('\t'),
      `\t${r.kind}\t${r.n}\t${r.booked.toFixed(3)}\t${(r.booked / r.n).toFixed(4)}\t${r.opAtSend.toFixed(3)}\t${(8 - r.opAtSend).toFixed(3)}\t${r.reported.toFixed(3)}\t${r.pacerRep.toFixed(3)}\t${r.worst.toFixed(4)}`,
    );
}
// After each bucket expiry: how long until the next update was sent, and what room the sandbox had then.
const gaps = expiries.map((e) => {
  const next = updates.find((r) => r.sent >= e.t);
  return { ...e, wait: next ? next.sent - e.t : Number.NaN };
});
if (process.argv.includes('--lines'))
  for (const g of gaps)
    console.log(`expiry\t${g.t.toFixed(3)}\tfreed ${g.freed.toFixed(3)}\top ${g.opAfter.toFixed(3)}\tnext send +${g.wait.toFixed(3)} s`);
// Idle time: no request in flight.
let idle = 0;
let idleWithRoom = 0;
const sorted = [...reqs].sort((a, b) => a.sent - b.sent);
for (let i = 1; i < sorted.length; i++) {
  const gap = sorted[i].sent - Math.max(...sorted.slice(0, i).map((r) => r.ended));
  if (gap > 0) {
    idle += gap;
    if (8 - sorted[i].opAtSend > 1.5) idleWithRoom += gap;
  }
}
const sizes = new Map<number, number>();
for (const r of updates) sizes.set(r.n, (sizes.get(r.n) ?? 0) + 1);
const leftAtSend = updates.map((r) => 8 - r.opAtSend);
console.log(
  JSON.stringify(
    {
      rows: ROWS,
      wallSeconds: Number(wall.toFixed(1)),
      bookedUpdateSeconds: Number(booked.toFixed(2)),
      idealSeconds: Number(ideal.toFixed(1)),
      ofBudget: `${((ideal / wall) * 100).toFixed(1)} %`,
      updateRequests: updates.length,
      readRequests: reads.length,
      readSeconds: Number(busy(reads).toFixed(1)),
      updateBusySeconds: Number(busy(updates).toFixed(1)),
      idleSeconds: Number(idle.toFixed(1)),
      idleWithOver1_5sLeft: Number(idleWithRoom.toFixed(1)),
      meanLeftAtSend: Number((leftAtSend.reduce((s, x) => s + x, 0) / Math.max(1, leftAtSend.length)).toFixed(3)),
      peakTrueOperating: Number(Math.max(...updates.map((r) => r.opAtSend)).toFixed(3)),
      batchSizes: Object.fromEntries([...sizes].sort((a, b) => b[0] - a[0])),
      refusals: sb.stats().refusals,
      expiries: gaps.length,
      meanWaitAfterExpiry: Number((gaps.reduce((s, g) => s + (g.wait || 0), 0) / Math.max(1, gaps.length)).toFixed(3)),
    },
    null,
    2,
  ),
);
await sb.close();
