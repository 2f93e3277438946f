import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../harness/sandbox/portal.ts';
import { main } from '../../lambda/cli/main.ts';

/** The system's Chromium (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
/** Kept for a person to look at after the run. */
const SCREENSHOT = join(import.meta.dirname, '..', '..', '.artifacts', 'report-html.png');

let sb: Sandbox;
let dir: string;
let browser: Browser;
let page: string;
let leads: number[];

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('report.html is checked in headless Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
  sb = await startSandbox({ rate: 1000, burst: 1000, operatingLimit: 10_000 });
  leads = sb.seedLeads(Array.from({ length: 6 }, (_, i) => ({ TITLE: `Lead ${i}` })));
  dir = await mkdtemp(join(tmpdir(), 'report-html-'));
  const rows = [
    'ID,TITLE,EMAIL_WORK',
    `${leads[0]},New title,ann@example.com`,
    `${leads[1]},<script>window.hacked=1</script>,<b>bob</b><script>window.hacked=2</script>`,
    `${leads[2]},Another,carl@`,
    `${leads[3]},Lead 3,`,
    '999999,Ghost,ghost@example.com',
    `${leads[4]},Fine,dora@example.com`,
  ];
  await writeFile(join(dir, 'leads.csv'), rows.join('\n') + '\n');
  const sink = { write: () => true };
  const code = await main([join(dir, 'leads.csv'), '--out', join(dir, 'out')], {
    stdout: sink,
    stderr: sink,
    env: { BITRIX24_WEBHOOK_URL: sb.webhookUrl },
    cwd: dir,
  });
  expect(code).toBe(1);
  page = pathToFileURL(join(dir, 'out', 'report.html')).href;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('report.html in a real browser, from a real run', () => {
  it('shows the counts, the charts and the problem rows as text, with no script error and no request', async () => {
    const tab = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('request', (r) => r.url() !== page && requests.push(r.url()));
    await tab.goto(page);

    expect(await tab.textContent('#result')).toBe('3 of 6 rows went through; 3 need attention.');
    const bars = await tab.$$eval('#status-chart .bar', (gs) =>
      gs.map((g) => [g.getAttribute('data-label'), g.getAttribute('data-value')]),
    );
    expect(bars).toEqual([
      ['updated', '2'],
      ['unchanged', '1'],
      ['valid', '0'],
      ['invalid', '2'],
      ['failed', '1'],
      ['skipped', '0'],
    ]);
    expect(await tab.$$eval('#code-chart .bar', (gs) => gs.map((g) => g.getAttribute('data-label')).sort())).toEqual([
      'INVALID_VALUE',
      'NOT_FOUND',
    ]);
    expect(await tab.$$eval('#problems tbody tr', (trs) => trs.length)).toBe(3);
    // The run's time series: rows per slot as bars (a short run: one slot).
    expect(await tab.$$eval('#series-chart rect.rows', (rs) => rs.length)).toBeGreaterThanOrEqual(1);
    // The hostile cell is in the table as text, and it never ran.
    expect(await tab.textContent('#problems tbody tr:first-child td:last-child')).toContain('<b>bob</b><script>window.hacked=2</script>');
    expect(await tab.$$eval('#problems b, #problems script', (els) => els.length)).toBe(0);
    expect(await tab.evaluate(() => (globalThis as { hacked?: number }).hacked)).toBeUndefined();
    expect(await tab.$$eval('#files a', (as) => as.map((a) => a.getAttribute('href')))).toEqual([
      'report.csv',
      'rejected.csv',
      'rejected.safe.csv',
      'changes.csv',
      'plan.csv',
      'summary.json',
    ]);
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await tab.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await tab.close();
  });

  it('the filter box narrows the table to the rows holding the text', async () => {
    const tab = await browser.newPage();
    await tab.goto(page);
    await tab.fill('#filter', 'NOT_FOUND');
    const visible = () =>
      tab.$$eval('#problems tbody tr', (trs) =>
        trs.filter((tr) => !(tr as unknown as { hidden: boolean }).hidden).map((tr) => tr.children[0].textContent),
      );
    expect(await visible()).toEqual(['6']);
    expect(await tab.textContent('#shown')).toBe('1 shown');
    await tab.fill('#filter', 'email_work');
    expect(await visible()).toEqual(['3', '4']);
    await tab.fill('#filter', '');
    expect(await visible()).toEqual(['3', '4', '6']);
    await tab.close();
  });

  it('the page on disk is the one finalize wrote: self-contained, one file', async () => {
    const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<(link|img|iframe)\b/);
  });
});
