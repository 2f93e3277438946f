import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { parseRunOptions, type RunOptions } from '../config.ts';
import { UsageError } from '../errors.ts';
import { type FlagValues, flagFor, PARSE_OPTIONS } from './flags.ts';

/**
 * Flags → options, shared by the command line and the options an S3 object carries in its metadata: one
 * parser, one schema, errors named by the flag.
 */

/** parseArgs over the flag table. Throws UsageError (unknown flag, missing value). */
export function readArgs(argv: string[]): { values: FlagValues; positionals: string[] } {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: PARSE_OPTIONS });
  } catch (err) {
    // Node's first sentence says it ("Unknown option '--x'."); its hint about positionals starting with '-' does not apply.
    throw new UsageError(firstSentence((err as Error).message));
  }
}

function firstSentence(text: string): string {
  const end = text.indexOf('. ');
  return end > 0 ? text.slice(0, end + 1) : text;
}

/** parseRunOptions, its first complaint named by the flag that set the value. Throws UsageError. */
export function validatedOptions(raw: Record<string, unknown>): RunOptions {
  try {
    return parseRunOptions(raw);
  } catch (err) {
    throw err instanceof ZodError ? new UsageError(flagIssue(err)) : err;
  }
}

/** `--rate: Too big: expected number to be <=16`: the schema's first issue, under the flag that set the value. */
export function flagIssue(err: ZodError): string {
  const issue = err.issues[0];
  const path = issue.path.map(String);
  const where = path[0] === 'mapping' && path.length > 1 ? ` (entry "${path.slice(1).join('.')}")` : '';
  // The delimiter's choices list a raw tab, which would print as blank space.
  return `${flagFor(path)}${where}: ${issue.message.replaceAll('"\t"', 'tab')}`;
}
