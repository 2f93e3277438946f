import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, REPO_ROOT } from '../../infra/handler.ts';

/**
 * Each Lambda bundled the way infra/handler.ts has the CDK bundle it (esbuild: ESM, node22, minified, the
 * createRequire banner, no externals), in memory, to check what each one carries: a handler that pulls in the
 * engine, the portal client or csv-parse without needing them pays for it on every cold start.
 */
const HANDLERS = ['start', 'chunk', 'finalize'] as const;
type HandlerName = (typeof HANDLERS)[number];

interface Bundle {
  inputs: string[];
  bytes: number;
}

async function bundle(name: HandlerName): Promise<Bundle> {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [`lambda/aws/${name}Handler.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: [],
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    outfile: `out/${name}/index.mjs`,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  if (!code) throw new Error(`no code output for ${name}`);
  return { inputs: Object.keys((result.metafile as Metafile).inputs), bytes: code.contents.byteLength };
}

const bundles = {} as Record<HandlerName, Bundle>;

const under = (inputs: string[], prefix: string) => inputs.filter((i) => i.startsWith(prefix));
/** The start and finalize bundles carry no lambda/calls/ file: the log redaction lives in lambda/redact.ts. */
const callsStage = (inputs: string[]) => under(inputs, 'lambda/calls/');
const csvParse = (inputs: string[]) => inputs.filter((i) => i.includes('node_modules/csv-parse/'));

describe('Lambda bundles', () => {
  beforeAll(async () => {
    for (const name of HANDLERS) bundles[name] = await bundle(name);
    for (const name of HANDLERS) console.log(`${name}Handler bundle: ${bundles[name].bytes} bytes, ${bundles[name].inputs.length} inputs`);
  }, 120_000);

  it.each(HANDLERS)('%s carries nothing from the harness, tests, benches, infra or the CLI', (name) => {
    const { inputs } = bundles[name];
    for (const dir of ['harness/', 'test/', 'bench/', 'infra/', 'lambda/cli/']) expect(under(inputs, dir)).toEqual([]);
    expect(inputs).toContain(`lambda/aws/${name}Handler.ts`);
  });

  it('start carries neither the chunk engine, the portal client nor csv-parse', () => {
    const { inputs } = bundles.start;
    expect(inputs).not.toContain('lambda/run/chunk.ts');
    expect(callsStage(inputs)).toEqual([]);
    expect(csvParse(inputs)).toEqual([]);
  });

  it('finalize carries neither csv-parse nor the portal client', () => {
    const { inputs } = bundles.finalize;
    expect(csvParse(inputs)).toEqual([]);
    expect(callsStage(inputs)).toEqual([]);
  });

  it('finalize alone carries the SNS client (it mails the run’s message); one copy of the shared SDK core', () => {
    const sns = (inputs: string[]) => inputs.filter((i) => i.includes('node_modules/@aws-sdk/client-sns/'));
    expect(sns(bundles.finalize.inputs).length).toBeGreaterThan(0);
    expect(sns(bundles.start.inputs)).toEqual([]);
    expect(sns(bundles.chunk.inputs)).toEqual([]);
    // client-sns (3.1169.0) shares @smithy/core with client-s3 (3.1175.0): a nested copy would double it.
    expect(bundles.finalize.inputs.filter((i) => /node_modules\/.+\/node_modules\/@smithy\/core\//.test(i))).toEqual([]);
  });

  it('chunk carries the engine, the portal client and csv-parse (the checks above would pass on an empty bundle)', () => {
    const { inputs } = bundles.chunk;
    expect(inputs).toContain('lambda/run/chunk.ts');
    expect(inputs).toContain('lambda/calls/session.ts');
    expect(csvParse(inputs).length).toBeGreaterThan(0);
  });
});
