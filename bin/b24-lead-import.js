#!/usr/bin/env -S node --max-old-space-size=128 --max-semi-space-size=4
// The published command runs the esbuild bundle dist/cli.mjs (built by `npm ci`'s prepare, `npm run build`,
// or here when missing or older than lambda/): ~0.3 s to --help instead of ~1.2 s through tsx.
// The heap limits keep peak RSS low on huge files: live data stays ~20 MB, but V8 otherwise lets garbage
// pile up before collecting (measured in bench/dryrun.bench.ts: ~117 MB instead of ~158 MB on 1M rows).
import { loadEntry } from '../scripts/entry.mjs';

const { main } = await loadEntry('cli');
process.exitCode = await main(process.argv.slice(2));
