#!/usr/bin/env -S node --max-old-space-size=128 --max-semi-space-size=4
// The published command: the sources are TypeScript, run through tsx (a runtime dependency).
// The heap limits keep peak RSS low on huge files: live data stays ~20 MB, but V8 otherwise lets garbage
// pile up before collecting (measured in bench/dryrun.bench.ts: ~117 MB instead of ~158 MB on 1M rows).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lambda/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
