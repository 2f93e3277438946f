import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lambda/errors.ts';
import { decodeMimeWords, objectOptionsInput, splitFlags } from '../../lambda/options/objectOptions.ts';
import { validatedOptions } from '../../lambda/options/readFlags.ts';

const meta = (text: string) => ({ 'b24-options': text });

async function refusal(text: string): Promise<string> {
  const e = await objectOptionsInput(meta(text)).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UsageError);
  return (e as Error).message;
}

describe("an S3 object's own options (metadata b24-options)", () => {
  it('reads the same flags as the command line, through the same table', async () => {
    const raw = await objectOptionsInput(meta('--multifield replace --clear-marker "N/A" --decimal-mark , --no-diff --rate 1'));
    expect(raw).toEqual({ multifield: 'replace', clearMarker: 'N/A', decimalMark: ',', diff: false, limits: { rate: 1 } });
    const options = validatedOptions(raw);
    expect([options.multifield, options.clearMarker, options.decimalMark, options.diff, options.limits.rate]).toEqual([
      'replace',
      'N/A',
      ',',
      false,
      1,
    ]);
  });

  it('no metadata, or blank, asks for nothing', async () => {
    expect(await objectOptionsInput(undefined)).toEqual({});
    expect(await objectOptionsInput({})).toEqual({});
    expect(await objectOptionsInput(meta('   '))).toEqual({});
  });

  it('refuses what a file cannot say, naming the flag', async () => {
    expect(await refusal('--frobnicate 1')).toMatch(/frobnicate/);
    expect(await refusal('--out /tmp/x')).toBe('--out cannot be set for one file');
    expect(await refusal('--map mapping.json')).toBe('--map: names a file, which cannot be read from here');
    expect(await refusal('EMAIL')).toMatch(/^"EMAIL" is not a flag/);
    expect(await refusal('--clear-marker "open')).toMatch(/inside a double quote/);
    expect(await refusal('--rate fast')).toBe('--rate: "fast" is not a number');
  });

  it('a value the schema refuses is named by its flag', async () => {
    const raw = await objectOptionsInput(meta('--multifield sometimes'));
    expect(() => validatedOptions(raw)).toThrow(/^--multifield: Invalid option/);
  });

  it('splits like a shell and decodes the RFC 2047 words S3 returns for non-ASCII metadata', () => {
    expect(splitFlags(`--clear-marker 'a b' --x "c \\"d\\"" e`)).toEqual(['--clear-marker', 'a b', '--x', 'c "d"', 'e']);
    expect(splitFlags('--clear-marker ""')).toEqual(['--clear-marker', '']);
    expect(decodeMimeWords(`=?UTF-8?B?${Buffer.from('—').toString('base64')}?=`)).toBe('—');
    expect(decodeMimeWords('=?utf-8?Q?caf=C3=A9_x?=')).toBe('café x');
    expect(decodeMimeWords('--plain')).toBe('--plain');
  });
});
