/**
 * Loads a built entry (`cli` or `start`) from dist/, rebuilding it first when it is missing or older than any
 * source it was built from (or than the build script), so a developer editing lambda/ never runs a stale build.
 * The check stats the ~110 files dist/inputs.json lists: ~2 ms. Without esbuild (an install without dev
 * dependencies) a stale build is used as is, and a missing one falls back to the TypeScript sources via tsx.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = { cli: 'lambda/cli/main.ts', start: 'harness/main.ts' };
const BUILD_SCRIPT = 'scripts/build.mjs';

/** True when dist/ has no complete build, or a file it was built from changed since. */
export function isStale() {
  let built;
  try {
    built = JSON.parse(readFileSync(join(ROOT, 'dist', 'inputs.json'), 'utf8'));
  } catch {
    return true;
  }
  for (const file of [...built.inputs, BUILD_SCRIPT]) {
    try {
      if (statSync(join(ROOT, file)).mtimeMs > built.builtAt) return true;
    } catch {
      return true; // a source was deleted or renamed: the build refers to code that is gone
    }
  }
  return false;
}

/** The entry's module: dist/<name>.mjs, rebuilt when stale; the sources through tsx when it cannot be built. */
export async function loadEntry(name) {
  const bundle = join(ROOT, 'dist', `${name}.mjs`);
  if (isStale()) {
    try {
      const { build } = await import(pathToFileURL(join(ROOT, BUILD_SCRIPT)).href);
      await build({ quiet: true });
    } catch (e) {
      if (!hasBundle(bundle)) return viaTsx(name);
      process.stderr.write(`b24-lead-import: warning: could not rebuild dist/ (${e.message}); running the previous build\n`);
    }
  }
  return import(pathToFileURL(bundle).href);
}

function hasBundle(file) {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

async function viaTsx(name) {
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, SOURCES[name])).href);
}
