/** `npm start`: harness/main.ts from its bundle dist/start.mjs (rebuilt when stale, see entry.mjs). */
import { loadEntry } from './entry.mjs';

const { main } = await loadEntry('start');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`npm start: ${e?.message ?? String(e)}\n`);
  process.exitCode = 1;
}
