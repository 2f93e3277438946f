import { Readable } from 'node:stream';
import type { PartKind } from '../run/keys.ts';
import { EOL, PLAN_COLUMNS, buildSummary, reportHeader, reportKeys, formatRejectedSafe } from './lines.ts';
import { encodeText } from '../rows/text.ts';
import type { RunState, Summary } from '../run/state.ts';
import type { ObjectStore } from '../stores/store.ts';
import { changesHeader } from './changeFiles.ts';
import { renderReportHtml } from './html.ts';
import { type ProblemDigest, problemDigest } from './problems.ts';

const PART = /(\d{6})\.(report|rejected-safe|rejected|plan|changes-json|changes)\.csv$/;

/**
 * Ends a run: streams the chunks' parts, in order, into report.csv, rejected.csv and (when rows went through
 * the portal) plan.csv, each with its header,
 * writes summary.json, then removes the parts. Memory stays bounded whatever the size of the run.
 * Parts numbered at or past the checkpoint's `part` belong to a chunk that died before it returned: ignored.
 *
 * Idempotent (Step Functions retries a Finalize whose Lambda died after the work): summary.json is written
 * last, so a summary of this run (same runId and startedAt) means every output is complete; a retry then only
 * removes leftover parts and answers that summary, never rewriting the report from parts already gone.
 *
 * @example
 * const summary = await finalizeRun(state, new FsStore('./leads-report'));
 * // report.csv, rejected.csv, summary.json in ./leads-report
 */
export async function finalizeRun(
  state: RunState,
  output: ObjectStore,
  opts: { error?: string | { code: string; message: string }; now?: () => Date } = {},
): Promise<Summary> {
  const cp = state.checkpoint;
  const done = await finishedSummary(state, output);
  const all = (await output.list(state.partsPrefix)).filter((k) => k.startsWith(state.partsPrefix));
  if (done) {
    if (all.length > 0) await output.remove(all);
    return done;
  }
  const parts = (kind: PartKind) =>
    all.filter((k) => {
      const m = PART.exec(k);
      return m !== null && m[2] === kind && Number(m[1]) < cp.part && k.startsWith(state.partsPrefix);
    });

  const error = typeof opts.error === 'string' ? { code: 'RUN_FAILED', message: opts.error } : opts.error;
  const summary = buildSummary(state, (opts.now?.() ?? new Date()).toISOString(), error ? { error } : {});
  const planParts = parts('plan');
  if (planParts.length > 0) {
    await output.write(summary.report.plan!, concat(output, reportHeader(PLAN_COLUMNS), planParts), 'text/csv; charset=utf-8');
  } else delete summary.report.plan;

  const digest = problemDigest();
  await output.write(summary.report.report, tap(concat(output, reportHeader(), parts('report')), digest.feed), 'text/csv; charset=utf-8');

  // rejected.csv is the user's own file minus the good rows: same header, same encoding, same BOM.
  const encoding = cp.format?.encoding ?? 'utf-8';
  const head =
    cp.headerRaw === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([cp.format?.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), encodeText(cp.headerRaw + EOL, encoding)]);
  const charset = encoding;
  await output.write(summary.report.rejected, concat(output, head, parts('rejected')), `text/csv; charset=${charset}`);
  // The copy to open in a spreadsheet: the same rows, cell by cell, guarded like the report (UTF-8).
  const safeHead = cp.headerRaw === undefined ? '' : formatRejectedSafe(cp.headerRaw, cp.format?.delimiter ?? ',');
  await output.write(
    summary.report.rejectedSafe!,
    concat(output, Buffer.from(safeHead), parts('rejected-safe')),
    'text/csv; charset=utf-8',
  );

  if (summary.changeLog) {
    await output.write(summary.report.changes!, concat(output, changesHeader(), parts('changes')), 'text/csv; charset=utf-8');
    await output.write(summary.report.changesJson!, concat(output, '', parts('changes-json')), 'application/x-ndjson');
  } else {
    delete summary.report.changes;
    delete summary.report.changesJson;
  }
  await writeHtml(output, summary, digest.result());
  await output.write(summary.report.summary, JSON.stringify(summary, null, 2) + '\n', 'application/json');
  if (all.length > 0) await output.remove(all);
  return summary;
}

/** The summary an earlier finalize of this very run wrote (undefined: none, or another run's). */
async function finishedSummary(state: RunState, output: ObjectStore): Promise<Summary | undefined> {
  const key = reportKeys(state).summary;
  if (!(await output.list(key)).includes(key)) return undefined;
  let stored: Partial<Summary>;
  try {
    stored = JSON.parse((await readAll(output, key)).toString('utf8')) as Partial<Summary>;
  } catch {
    return undefined; // unreadable: write it again
  }
  return stored.runId === state.runId && stored.startedAt === state.startedAt ? (stored as Summary) : undefined;
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** report.html beside the CSVs, linking the files this run wrote (by name: they sit in the same folder). */
async function writeHtml(output: ObjectStore, summary: Summary, problems: ProblemDigest): Promise<void> {
  const key = summary.report.html!;
  const files = Object.values(summary.report).map((k) => k.slice(k.lastIndexOf('/') + 1));
  await output.write(key, renderReportHtml({ summary, problems, files }), 'text/html; charset=utf-8');
}

/** The same stream, each chunk also shown to `watch` on its way through. */
function tap(stream: Readable, watch: (chunk: Buffer) => void): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of stream) {
        watch(chunk as Buffer);
        yield chunk as Buffer;
      }
    })(),
    { objectMode: false },
  );
}

/** A header, then each part's bytes as they stream in. */
function concat(store: ObjectStore, head: string | Buffer, keys: string[]): Readable {
  return Readable.from(
    (async function* () {
      if (head.length > 0) yield typeof head === 'string' ? Buffer.from(head) : head;
      for (const key of keys) {
        for await (const chunk of await store.read(key)) yield chunk as Buffer;
      }
    })(),
    { objectMode: false },
  );
}
