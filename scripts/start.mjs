/** `npm start`: harness/main.ts from its bundle dist/start.mjs (rebuilt when stale, see entry.mjs). */
import { loadEntry } from './entry.mjs';

// npm start is the local harness by definition: the client reaches the loopback sandbox only in local mode.
process.env.B24_LOCAL_MODE ??= '1';
const { main } = await loadEntry('start');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`npm start: ${e?.message ?? String(e)}\n`);
  process.exitCode = 1;
}
