import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { parseRunOptions, type RunOptions } from '../config.ts';
import { UsageError } from '../errors.ts';
import { type FlagValues, flagFor, optionsInput, PARSE_OPTIONS } from './flags.ts';

/** A command line the CLI can run: the input, the --out folder if given, and the validated options. */
export interface Parsed {
  file: string;
  out?: string;
  options: RunOptions;
}

/** Flags → validated RunOptions (zod, once). Throws UsageError with a clear message. */
export async function parseCli(argv: string[], cwd: string): Promise<Parsed | 'help'> {
  const { values, positionals } = readArgs(argv);
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('no input file given');
  if (positionals.length > 1) throw new UsageError(`one input file at a time (got ${positionals.length}: ${positionals.join(', ')})`);
  const options = validated(await optionsInput(values, cwd));
  const out = values.out as string | undefined;
  return { file: positionals[0], ...(out !== undefined ? { out } : {}), options };
}

function readArgs(argv: string[]): { values: FlagValues; positionals: string[] } {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: PARSE_OPTIONS });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** parseRunOptions, its first complaint named by the flag that set the value. */
function validated(raw: Record<string, unknown>): RunOptions {
  try {
    return parseRunOptions(raw);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const issue = err.issues[0];
    const path = issue.path.map(String);
    const where = path[0] === 'mapping' && path.length > 1 ? ` (entry "${path.slice(1).join('.')}")` : '';
    // The delimiter's choices list a raw tab, which would print as blank space.
    throw new UsageError(`${flagFor(path)}${where}: ${issue.message.replaceAll('"\t"', 'tab')}`);
  }
}
