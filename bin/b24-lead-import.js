#!/usr/bin/env -S node --max-old-space-size=128
// The published command: the sources are TypeScript, run through tsx (a runtime dependency).
// The heap cap keeps peak RSS low on huge files: live data stays ~20 MB, but V8 otherwise lets garbage
// pile up to ~90 MB of heap before collecting (measured in bench/dryrun.bench.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lambda/cli.ts');
process.exitCode = await main(process.argv.slice(2));
