import { expect, it } from 'vitest';
import { resolveBench } from '../../../bench/support/resolveKeys.ts';

it('resolving 10,000 e-mail keys: 10 findbycomm requests; the candidate read is the diff read, 2,500 leads a request', async () => {
  const f = await resolveBench(10_000);
  expect(f).toMatchObject({ keys: 10_000, matched: 9_000, ambiguous: 500, none: 500, maxValues: 20, maxCommands: 50 });
  expect(f.searchRequests).toBe(10);
  expect(f.searchRequests).toBeLessThanOrEqual(12);
  // 10,000 candidates (9,000 + 2 × 500) read once, 2,500 a request, with the diff's fields: no second read for the diff.
  expect(f.readRequests).toBe(4);
  console.log(
    `resolve 10,000 e-mail keys: ${f.searchRequests} findbycomm + ${f.readRequests} lead reads (shared with the diff), ${Math.round(f.ms)} ms`,
  );
}, 60_000);
