/**
 * Builds the entries that start without a TypeScript loader: `dist/cli.mjs` (lambda/cli/main.ts: the bin and
 * `npm run cli`) and `dist/start.mjs` (harness/main.ts: `npm start`). Run by `npm ci` (prepare), `npm run build`,
 * and by the bin when dist/ is missing or older than a source it was built from.
 *
 * ESM with code splitting, so the CLI's lazy `import('../calls/session.ts')` stays a chunk an offline dry run
 * never loads. The dependencies are bundled: measured on the 2-core dev machine, `--help` took ~0.16 s bundled
 * against ~0.21 s with them external (Node's resolver and loader per package cost more than parsing the code).
 * s3rver stays external: it is required at run time through createRequire and only `npm start` loads it.
 * `dist/inputs.json` lists the sources each build read (from esbuild's metafile), written last: the staleness
 * check of scripts/entry.mjs. Source maps are written beside the bundles (see README: --enable-source-maps).
 *
 * `node scripts/build.mjs [--external] [--optional]` (--external: leave node_modules out of the bundle, to
 * measure; --optional: no esbuild installed is not an error).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const INPUTS = join(DIST, 'inputs.json');

/** CommonJS dependencies call require(): an ESM bundle needs one (each output file gets this line). */
const REQUIRE_BANNER = "import { createRequire as __b24Require } from 'node:module'; const require = __b24Require(import.meta.url);";

/**
 * Builds dist/; resolves with the repository-relative sources the bundles were built from. `clean` empties
 * dist/ first (the bin's rebuild does not: another run may be loading the old chunks at that moment).
 */
export async function build({ external = false, quiet = false, clean = false } = {}) {
  const esbuild = await import('esbuild');
  // Taken before esbuild reads the sources: a file saved during the build is newer, so the next run rebuilds.
  const t0 = Date.now();
  if (clean) rmSync(DIST, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'lambda/cli/main.ts', start: 'harness/main.ts' },
    outdir: DIST,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    // Keep names: errors are told apart by `name` and stack traces should read as the sources do.
    keepNames: true,
    // aws-cdk-lib: npm start synthesises the workflow it runs; bundled in, start.mjs is 74 MB and builds in 20–50 s.
    external: ['s3rver', 'aws-cdk-lib', 'constructs'],
    ...(external ? { packages: 'external' } : {}),
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    logLevel: quiet ? 'error' : 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
  writeFileSync(INPUTS, `${JSON.stringify({ builtAt: t0, external, inputs }, null, 1)}\n`);
  if (!quiet) console.error(`built dist/cli.mjs and dist/start.mjs from ${inputs.length} sources in ${Date.now() - t0} ms`);
  return inputs;
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  try {
    await build({ external: process.argv.includes('--external'), clean: true });
  } catch (e) {
    // `prepare` passes --optional: an install without dev dependencies has no esbuild; the bin then runs tsx.
    if (!(process.argv.includes('--optional') && e?.code === 'ERR_MODULE_NOT_FOUND')) throw e;
    console.error('esbuild is not installed: dist/ not built (the bin runs the sources through tsx)');
  }
}
