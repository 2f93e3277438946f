/**
 * `npm run bench`: runs every bench/*.bench.ts, one after another, each in its own child process (so one
 * bench's memory and JIT state never colour another's figures), and prints what each reports.
 * `npm run bench -- NAME…` runs the benches whose file name contains a NAME. Benches that take real time
 * (OPT_IN: cloud, ~20 minutes) run only when named.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const OPT_IN = ['cloud.bench.ts'];
const only = process.argv.slice(2);
const named = (f: string) => only.some((o) => f.includes(o));
const all = readdirSync(HERE).filter((f) => f.endsWith('.bench.ts'));
const benches = all.filter((f) => (only.length === 0 ? !OPT_IN.includes(f) : named(f))).sort();
for (const f of only.length === 0 ? all.filter((f) => OPT_IN.includes(f)) : []) {
  console.log(`=== ${f}: skipped (real time, ~20 minutes: \`npm run bench -- ${f.replace('.bench.ts', '')}\` runs it) ===`);
}

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', TSX, join(HERE, file)], {
    stdio: 'inherit',
    // Figures only: the SDK's Node 22 notice would interleave with them.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', B24_LOCAL_MODE: '1', ...process.env },
  });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${file}: FAILED (exit ${r.status ?? r.signal}) after ${s} s ===`);
  } else console.log(`=== ${file}: done in ${s} s ===`);
}
process.exitCode = failed > 0 ? 1 : 0;
