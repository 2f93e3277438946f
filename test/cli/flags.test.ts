import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lambda/errors.ts';
import { FLAGS } from '../../lambda/options/flags.ts';
import { type CliIO, main, parseCli, USAGE } from '../../lambda/cli/main.ts';

/** The flag table is the one definition of the flags: the usage text, parseArgs and the error names come from it. */

function capture(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    cwd: import.meta.dirname,
    out: () => out,
    err: () => err,
  };
}

/** The usage error parseCli throws for `argv`. */
async function usageError(argv: string[]): Promise<UsageError> {
  const e = await parseCli(argv, import.meta.dirname).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UsageError);
  return e as UsageError;
}

describe('the flag table', () => {
  it('--help lists every flag of the table, with its value hint and help, in the table order', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toBe(USAGE);
    let at = 0;
    for (const flag of FLAGS) {
      const label = `${flag.short ? `-${flag.short}, ` : ''}--${flag.name}${flag.hint ? ` ${flag.hint}` : ''}`;
      const line = new RegExp(`^ {2}${label.replace(/[|.]/g, '\\$&')} +${flag.help[0].replace(/[()|.?*+[\]{}^$\\]/g, '\\$&')}$`, 'm');
      const found = line.exec(USAGE.slice(at));
      expect(found, `--${flag.name}`).not.toBeNull();
      at += found!.index + found![0].length;
      for (const more of flag.help.slice(1)) expect(USAGE).toContain(`\n${' '.repeat(28)}${more}\n`);
    }
  });

  it('the options part of --help is unchanged', () => {
    const options = USAGE.slice(USAGE.indexOf('Options:\n'), USAGE.indexOf('\n\nExit codes:'));
    expect(options).toBe(`Options:
  --dry-run                 validate and report only; works offline (no webhook needed)
  --out DIR                 where report.csv, rejected.csv and summary.json go
                            (default: <name>-report/ beside the input, e.g. leads.csv → leads-report/)
  --map FILE.json           header mapping, e.g. {"Phone number": "PHONE_MOBILE", "Company": "COMPANY_TITLE"}
  --encoding ENC            utf-8 | windows-1251 | windows-1252 | macintosh
                            (default: auto — UTF-8, else the code page the text reads as; refused when unsure)
  --decimal-mark M          , | . (default: auto — a lone mark before three digits, 12,500, is refused as ambiguous)
  --date-order ORDER        DMY | MDY: how 3/5/1990 reads (default: refused when both readings are dates)
  --phone-country CC        country of phones written without +code, e.g. RU (default: the portal's)
  --match FIELD             ID | EMAIL | PHONE | UF_CRM_… (or its label): how rows without an ID find their lead (default: ID)
  --ignore-unknown          skip columns nobody can write (unknown, read-only) with a warning instead of refusing
  --delimiter D             auto | , | ; | tab (default: auto)
  --sonet Y|N               post live-feed events for the updates (default: N)
  --no-diff                 write every row as is, without reading the leads first
  --multifield MODE         merge | replace phones/e-mails/… (default: merge)
  --clear-marker X          a cell equal to X clears the field (default: #N/A; an empty cell leaves it alone)
  --plan PLAN               standard | enterprise (the portal's request limits)
  --rate N                  requests per second (default 2)
  --burst N                 request burst (default 50)
  --operating-limit S       seconds of server time per method within the window (default 480)
  --operating-window S      the operating window, seconds (default 600)
  --concurrency N           batches in flight (default 1; 2 for cheap updates, see README)
  --max-bytes N             refuse files larger than N bytes (default 2 GiB)
  --max-rows N              stop after N rows (default 5,000,000)
  --outage-wait S           seconds a portal outage is waited out before the run halts (default 21,600 = 6 h)
  --max-cell-bytes N        a cell over N bytes makes its row invalid (default 65,536)
  -h, --help                show this help`);
  });

  it('every flag of the table is accepted by the parser', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-flags-'));
    await writeFile(join(dir, 'map.json'), '{"Phone": "PHONE_MOBILE"}');
    const sample: Record<string, string> = {
      map: 'map.json',
      delimiter: ';',
      sonet: 'Y',
      multifield: 'merge',
      encoding: 'auto',
      'decimal-mark': ',',
      'date-order': 'DMY',
      'phone-country': 'RU',
      plan: 'standard',
    };
    try {
      for (const flag of FLAGS.filter((f) => f.name !== 'help')) {
        const value = flag.type === 'boolean' ? [] : [sample[flag.name] ?? (flag.hint === 'N' || flag.hint === 'S' ? '3' : 'x')];
        await expect(parseCli(['f.csv', `--${flag.name}`, ...value], dir), `--${flag.name}`).resolves.toMatchObject({ file: 'f.csv' });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['rate', 'abc', '--rate: "abc" is not a number'],
    ['rate', '0', '--rate: Too small'],
    ['burst', '0', '--burst: Too small'],
    ['operating-limit', '0', '--operating-limit: Too small'],
    ['operating-window', '0', '--operating-window: Too small'],
    ['concurrency', '0', '--concurrency: Too small'],
    ['max-bytes', '0', '--max-bytes: Too small'],
    ['max-rows', '0', '--max-rows: Too small'],
    ['max-cell-bytes', '0', '--max-cell-bytes: Too small'],
    ['max-cell-bytes', '', '--max-cell-bytes: "" is not a number'],
    ['encoding', 'koi8-r', '--encoding: Invalid option'],
    ['decimal-mark', ';', '--decimal-mark: Invalid option'],
    ['date-order', 'YMD', '--date-order: Invalid option'],
    ['phone-country', 'Russia', '--phone-country: a phone country is a two-letter'],
    ['outage-wait', 'long', '--outage-wait: "long" is not a number'],
    ['delimiter', 'x', '--delimiter: Invalid option'],
    ['sonet', 'x', '--sonet: Invalid option'],
    ['multifield', 'x', '--multifield: Invalid option'],
    ['plan', 'gold', '--plan: "gold" is not a plan (standard or enterprise)'],
    ['map', 'missing.json', '--map: cannot read missing.json: ENOENT'],
  ])('a bad --%s %j names the flag', async (name, value, message) => {
    expect((await usageError(['f.csv', `--${name}`, value])).message).toMatch(new RegExp(`^${message.replace(/[()|.]/g, '\\$&')}`));
  });

  it('flags that read files are read last: a bad number is reported before the mapping file is opened', async () => {
    expect((await usageError(['f.csv', '--map', 'missing.json', '--rate', 'fast'])).message).toBe('--rate: "fast" is not a number');
    expect((await usageError(['f.csv', '--max-rows', 'y', '--plan', 'x'])).message).toMatch(/^--plan:/);
  });

  it('--plan seeds the limits and the number flags override it', async () => {
    const parsed = await parseCli(['f.csv', '--burst', '7', '--plan', 'enterprise'], import.meta.dirname);
    expect(parsed !== 'help' && parsed.options.limits).toMatchObject({ rate: 5, burst: 7 });
  });
});
