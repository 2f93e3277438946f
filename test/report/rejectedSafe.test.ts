import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lambda/cli/main.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rejected-safe-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quiet = { write: () => true };

describe('rejected.safe.csv: the rejected rows, guarded for opening in a spreadsheet', () => {
  it('keeps rejected.csv byte for byte and writes a copy whose cells start no formula, in any locale', async () => {
    const input = join(dir, 'leads.csv');
    // Row 3's ID is invalid and carries a formula after a ';' (Russian Excel's list separator).
    await writeFile(input, 'ID;TITLE\n5;Fine\n1;=cmd|\' /C calc\'!A0;x;=SUM(1)\n7;"a;=HYPERLINK(""x"")"\n');
    const out = join(dir, 'out');
    const code = await main([input, '--dry-run', '--out', out], { stdout: quiet, stderr: quiet, env: {}, cwd: dir });
    expect(code).toBe(1);
    const raw = await readFile(join(out, 'rejected.csv'), 'utf8');
    expect(raw).toBe("ID;TITLE\r\n1;=cmd|' /C calc'!A0;x;=SUM(1)\r\n");
    const safe = await readFile(join(out, 'rejected.safe.csv'), 'utf8');
    const lines = safe.trimEnd().split('\r\n');
    expect(lines[0]).toBe('ID,TITLE');
    expect(lines).toHaveLength(2);
    // Cut at every separator a locale may use: no piece starts a formula.
    for (const piece of lines[1].split(/[,;\t|]/)) expect(piece.replace(/^[\s"]+/, '')).not.toMatch(/^[=+\-@]/);
    expect(lines[1]).toContain("'=cmd");
    expect(JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).report.rejectedSafe).toMatch(/rejected\.safe\.csv$/);
  });
});
