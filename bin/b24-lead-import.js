#!/usr/bin/env node
// The published command: the sources are TypeScript, run through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lambda/cli.ts');
process.exitCode = await main(process.argv.slice(2));
