import type { RunOptions } from '../config.ts';
import { UsageError } from '../errors.ts';
import { optionsInput } from '../options/flags.ts';
import { readArgs, validatedOptions } from '../options/readFlags.ts';
import { readMappingFile } from './mapping.ts';

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
  const options = validatedOptions(await optionsInput(values, cwd, (text, { flag }) => readMappingFile(text, cwd, flag)));
  const out = values.out as string | undefined;
  return { file: positionals[0], ...(out !== undefined ? { out } : {}), options };
}
