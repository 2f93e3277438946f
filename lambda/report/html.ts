import type { SeriesTotals } from '../run/series.ts';
import type { Summary } from '../run/state.ts';
import type { ProblemDigest, ProblemRow } from './problems.ts';
import { rowsNeedingAttention, STATUSES } from './lines.ts';

/**
 * report.html: the run's report for a person, one self-contained page (styles and the one small script
 * inline, no network: a Content-Security-Policy forbids every fetch). Every text from the run (file names,
 * cells, portal messages) goes through `esc`, so a TITLE of `<script>` shows as text.
 */

/** One slot of a run (a minute, or wider on a long run), as the summary's time series records it. */
export type SeriesPoint = SeriesTotals;

export interface HtmlReportInput {
  summary: Summary;
  problems: ProblemDigest;
  /** The run's files beside report.html, by name (only those that exist are linked). */
  files: string[];
}

const STATUS_COLOURS: Record<string, string> = {
  updated: '#2e7d32',
  unchanged: '#78909c',
  valid: '#1565c0',
  invalid: '#e65100',
  failed: '#c62828',
  skipped: '#6d4c41',
};

/** Text → HTML text or attribute value. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const number = (n: number) => n.toLocaleString('en-US');

/** The whole page. */
export function renderReportHtml({ summary, problems, files }: HtmlReportInput): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Import report: ${esc(baseName(summary.source))}</title>
<style>${STYLE}</style></head><body>
${overview(summary)}
${statusChart(summary)}
${codeChart(summary, problems.examples)}
${seriesChart(summary.series ?? [])}
${problemTable(problems)}
${links(files)}
<script>${SCRIPT}</script>
</body></html>
`;
}

function baseName(source: string): string {
  return source.slice(source.lastIndexOf('/') + 1) || source;
}

/** What a person asks first: which file, when, how long, and did it work. */
function overview(s: Summary): string {
  const seconds = Math.max(0, (Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000);
  const rows: [string, string][] = [
    ['File', s.source],
    ['Started', s.startedAt],
    ['Finished', s.finishedAt],
    ['Took', duration(seconds)],
    ['Mode', s.dryRun ? 'dry run (nothing written)' : 'import'],
    ['Rows', number(s.rows)],
    ['Requests', `${number(s.requests)} (${number(s.retries)} retries, ${duration(s.throttledMs / 1000)} waiting for the portal's limits)`],
  ];
  return `<header><h1>Import report</h1><p class="result ${resultClass(s)}" id="result">${esc(resultText(s))}</p>
<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></header>`;
}

function resultClass(s: Summary): string {
  if (s.refused || s.error || s.halted) return 'bad';
  return s.complete && rowsNeedingAttention(s) === 0 ? 'good' : 'warn';
}

/** One sentence: refused (and why), stopped (and why), or done with how many problems. */
export function resultText(s: Summary): string {
  if (s.refused) return `The file was refused: ${s.refused.code}: ${s.refused.message}`;
  if (s.error) return `The run failed: ${s.error.code}: ${s.error.message}`;
  if (s.halted) return `The run stopped: ${s.halted.code}: ${s.halted.message}`;
  const bad = rowsNeedingAttention(s);
  const cut = s.cutShort ? ` The file was cut short at line ${s.cutShort.line}: ${s.cutShort.message}` : '';
  if (bad === 0) return `All ${number(s.rows)} rows went through.${cut}`;
  return `${number(s.rows - bad)} of ${number(s.rows)} rows went through; ${number(bad)} need attention.${cut}`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Horizontal bars, one per label, as inline SVG (no chart library, nothing to fetch). */
function bars(id: string, items: { label: string; value: number; colour: string; note?: string }[]): string {
  const max = Math.max(1, ...items.map((i) => i.value));
  const height = 26;
  const body = items
    .map((item, i) => {
      const width = item.value === 0 ? 0 : Math.max(2, Math.round((item.value / max) * 420));
      const y = i * height;
      return `<g class="bar" data-label="${esc(item.label)}" data-value="${item.value}"><text x="0" y="${y + 17}">${esc(item.label)}</text><rect x="170" y="${y + 4}" width="${width}" height="18" fill="${item.colour}"><title>${esc(item.note ?? `${item.label}: ${item.value}`)}</title></rect><text x="${176 + width}" y="${y + 17}">${number(item.value)}</text></g>`;
    })
    .join('');
  return `<svg class="chart" id="${id}" role="img" width="680" height="${Math.max(1, items.length) * height}" viewBox="0 0 680 ${Math.max(1, items.length) * height}">${body}</svg>`;
}

function statusChart(s: Summary): string {
  const items = STATUSES.map((status) => ({ label: status, value: s.counts[status] ?? 0, colour: STATUS_COLOURS[status] }));
  return `<section><h2>Rows by status</h2>${bars('status-chart', items)}</section>`;
}

function codeChart(s: Summary, examples: Record<string, string>): string {
  const codes = Object.entries(s.errorCodes).sort((a, b) => b[1] - a[1]);
  if (codes.length === 0) return `<section><h2>Error codes</h2><p class="none">No row had an error code.</p></section>`;
  const items = codes.map(([code, n]) => ({ label: code, value: n, colour: '#ad1457', note: examples[code] }));
  const list = codes
    .filter(([code]) => examples[code])
    .map(([code]) => `<li><code>${esc(code)}</code> ${esc(examples[code])}</li>`)
    .join('');
  return `<section><h2>Error codes</h2>${bars('code-chart', items)}<h3>One example of each</h3><ul class="examples">${list}</ul></section>`;
}

/** Rows per minute as bars, throttle waits as a line over them. */
function seriesChart(series: SeriesPoint[]): string {
  if (series.length === 0) return `<section><h2>Over time</h2><p class="none">No time series was recorded for this run.</p></section>`;
  const w = 680;
  const h = 160;
  const step = w / series.length;
  const maxRows = Math.max(1, ...series.map((p) => p.rows));
  const rows = series
    .map((p, i) => {
      const bh = Math.round((p.rows / maxRows) * (h - 20));
      return `<rect class="rows" x="${(i * step).toFixed(1)}" y="${h - bh}" width="${Math.max(1, step - 1).toFixed(1)}" height="${bh}"><title>minute ${p.minute}: ${p.rows} rows, ${p.requests} requests, ${Math.round(p.waitMs / 1000)} s waiting, ${p.limitErrors} limit errors</title></rect>`;
    })
    .join('');
  const waits = series
    .map((p, i) => `${(i * step + step / 2).toFixed(1)},${(h - Math.min(1, p.waitMs / 60_000) * (h - 20)).toFixed(1)}`)
    .join(' ');
  return `<section><h2>Over time</h2><p>Bars: rows done per minute (peak ${number(maxRows)}). Line: share of each minute spent waiting for the portal's limits.</p>
<svg class="chart" id="series-chart" role="img" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${rows}<polyline class="waits" points="${waits}"/></svg></section>`;
}

function problemTable(p: ProblemDigest): string {
  if (p.rows.length === 0) return `<section><h2>Rows that need attention</h2><p class="none" id="no-problems">None.</p></section>`;
  const more = p.more > 0 ? `<p id="more">${number(p.more)} more in report.csv.</p>` : '';
  return `<section><h2>Rows that need attention</h2>
<label>Filter <input id="filter" type="search" placeholder="line, ID, column, code or text" autocomplete="off"></label> <span id="shown">${number(p.rows.length)} shown</span>
<table id="problems"><thead><tr><th>Line</th><th>ID</th><th>Status</th><th>Column</th><th>Code</th><th>Message</th></tr></thead><tbody>
${p.rows.map(row).join('\n')}
</tbody></table>${more}</section>`;
}

function row(r: ProblemRow): string {
  return `<tr><td>${esc(r.line)}</td><td>${esc(r.id)}</td><td>${esc(r.status)}</td><td>${esc(r.column)}</td><td>${esc(r.code)}</td><td>${esc(r.message)}</td></tr>`;
}

/** Files a person may open next; names only, as they sit beside this page. */
const LINKED = ['report.csv', 'rejected.csv', 'rejected.safe.csv', 'changes.csv', 'plan.csv', 'summary.json'];

function links(files: string[]): string {
  const present = LINKED.filter((f) => files.includes(f));
  return `<footer><h2>Files</h2><ul id="files">${present.map((f) => `<li><a href="${esc(f)}">${esc(f)}</a></li>`).join('')}</ul></footer>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{margin:0 0 .3rem}h2{margin-top:2rem;font-size:1.15rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}.result{font-weight:600;padding:.5rem .8rem;border-radius:4px}
.good{background:#e8f5e9}.warn{background:#fff8e1}.bad{background:#ffebee}.chart text{font-size:13px}
.rows{fill:#1565c0}.waits{fill:none;stroke:#e65100;stroke-width:2}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.none{color:#666}input{font:inherit;padding:.2rem .4rem;width:20rem}`;

/** The filter box: hides rows that do not contain the text; `#filter=…` in the address pre-fills it. */
const SCRIPT = `(function(){var box=document.getElementById('filter');if(!box)return;var rows=[].slice.call(document.querySelectorAll('#problems tbody tr'));var shown=document.getElementById('shown');
function apply(){var q=box.value.trim().toLowerCase();var n=0;rows.forEach(function(r){var on=q===''||r.textContent.toLowerCase().indexOf(q)!==-1;r.hidden=!on;if(on)n++;});shown.textContent=n+' shown';}
box.addEventListener('input',apply);var m=/^#filter=(.*)$/.exec(location.hash);if(m){box.value=decodeURIComponent(m[1]);apply();}})();`;
