/**
 * `npm run bench`: runs every bench/*.bench.ts, one after another, each in its own child process (so one
 * bench's memory and JIT state never colour another's figures), and prints what each reports.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const only = process.argv.slice(2);
const benches = readdirSync(HERE)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', TSX, join(HERE, file)], {
    stdio: 'inherit',
    // Figures only: the SDK's Node 22 notice would interleave with them.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${file}: FAILED (exit ${r.status ?? r.signal}) after ${s} s ===`);
  } else console.log(`=== ${file}: done in ${s} s ===`);
}
process.exitCode = failed > 0 ? 1 : 0;
