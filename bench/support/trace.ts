/**
 * Debug aid: runs the sender in-process (diff planner, as the CLI does) against a sandbox and prints one line
 * per request (start, end, method, commands), so a bench's lost seconds can be located.
 * `npx tsx bench/support/trace.ts [--rows 4560] [--concurrency 1]`
 */
import { parseRunOptions } from '../../lambda/config.ts';
import { openPortal } from '../../lambda/calls/session.ts';
import { startSandbox } from '../../harness/sandbox/portal.ts';

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
}
const ROWS = Number(arg('rows', '4560'));
const blind = process.argv.includes('--blind');
const L = {
  rate: Number(arg('rate', '2')),
  burst: Number(arg('burst', '50')),
  operatingLimit: Number(arg('limit', '8')),
  operatingWindow: Number(arg('window', '10')),
};
const sb = await startSandbox({
  ...L,
  costs: { 'crm.lead.update': Number(arg('cost', String(1 / 60))) },
  operatingMinFix: Number(arg('minfix', String(0.1 / 12))),
  timeScale: Number(arg('scale', '1')),
  ...(process.argv.includes('--vary') ? { cost: varying() } : {}),
});

/** Per request, 0.1–0.5 s per update scaled by 1/12 (bench/varying.bench.ts). */
function varying() {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const per = new Map<number, number>();
  return (method: string, _p: unknown, request: number) => {
    if (method !== 'crm.lead.update') return undefined;
    if (!per.has(request)) per.set(request, ((0.1 + 0.4 * random()) * 1) / 12);
    return per.get(request);
  };
}
const ids = sb.seedLeads(Array.from({ length: ROWS }, (_, i) => ({ TITLE: `old ${i}`, NAME: `Old${i}` })));
const t0 = Date.now();
const holder: { api?: unknown } = {};
const traced: typeof fetch = async (url, init) => {
  const s = Date.now() - t0;
  const body = JSON.parse(String(init?.body ?? '{}'));
  const n = body.cmd ? Object.keys(body.cmd).length : 1;
  const first = body.cmd ? String(Object.values(body.cmd)[0]).split('?')[0] : '';
  // biome-ignore lint/suspicious/noExplicitAny: a debug aid reads the budget's private state
  const b = (holder.api as any)?.throttle?.budget('crm.lead.update');
  const view = b
    ? `rep=${b.operating?.toFixed(2)} w=${b.worstCost(Date.now()).toFixed(4)} run=${b.runningUnits} res=${[...b.reservations.values()].join(',')} ch=${b.charges.length}`
    : '';
  const res = await fetch(url, init);
  const e = Date.now() - t0;
  console.log(
    `${(s / 1000).toFixed(2)}\t${(e / 1000).toFixed(2)}\t${String(url).split('/').pop()}\t${first}\t${n}\top=${JSON.stringify(sb.stats().operating)}\tref=${sb.stats().refusals.OPERATION_TIME_LIMIT ?? 0}\t${view}`,
  );
  return res;
};
const options = parseRunOptions({ limits: { ...L, concurrency: Number(arg('concurrency', '1')) } });
const session = await openPortal(sb.webhookUrl, { ...options, diff: !blind }, { fetch: traced, localMode: true });
const { sender } = session;
holder.api = session.api;
const rows = ids.map((id, i) => ({ line: i + 2, id, fields: { TITLE: `new ${i}`, NAME: `New${i}` }, clears: [], warnings: [] }));
const W = 1000;
for (let i = 0; i < rows.length; i += W) {
  // biome-ignore lint/suspicious/noExplicitAny: a debug aid
  await sender.send(rows.slice(i, i + W) as any, Date.now() + 600_000);
}
console.log(
  `total ${((Date.now() - t0) / 1000).toFixed(1)} s, refusals ${JSON.stringify(sb.stats().refusals)}, stats ${JSON.stringify(sender.stats())}`,
);
await sb.close();
