/**
 * Shared fixtures for the fault and crash suite (test/faults.*.test.ts): a lead file with phones and e-mails
 * for leads seeded in a sandbox portal, and the checks every scenario ends with — one report line per row,
 * every lead in the state the file asked for, no duplicated multifield value, summary = report, no secret.
 */
import { parse } from 'csv-parse/sync';
import { normaliseMulti } from '../../lambda/calls/planning/normalise.ts';
import type { Sandbox } from '../../harness/sandbox/portal.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';
import type { LeadRecord, RowOutcome, RowStatus } from '../../lambda/types.ts';

export const HEADER = 'ID,TITLE,PHONE_WORK,EMAIL_WORK';

/** What one data row of the file is, and so what its report line and its lead must end as. */
export interface FileRow {
  line: number;
  id: number;
  kind: 'update' | 'missing' | 'invalid';
  title: string;
  phone: string;
  email: string;
}

export interface LeadFile {
  csv: string;
  rows: FileRow[];
  /** Lead id → what the lead held before the import (phones/e-mails normalised). */
  before: Map<number, { phones: string[]; emails: string[] }>;
}

/**
 * Seeds `n` leads and builds a file updating each once: a new TITLE, a work phone and a work e-mail. Some leads
 * already hold the row's phone in another format (merge adds nothing), some hold another phone or e-mail
 * (merge adds the row's). Every 1000th row names a lead that does not exist (→ failed NOT_FOUND) and every
 * 1500th carries a bad e-mail (→ invalid, the lead untouched).
 */
export function seedFile(sb: Sandbox, n: number, tag: string): LeadFile {
  const seeds = Array.from({ length: n }, (_, i) => {
    const lead: Record<string, unknown> = { TITLE: `old ${tag} ${i}` };
    if (i % 5 === 1)
      lead.PHONE = [{ VALUE: `+7 (900) ${phoneDigits(tag, i).slice(4, 7)}-${phoneDigits(tag, i).slice(7)}`, VALUE_TYPE: 'MOBILE' }];
    else if (i % 5 === 2) lead.PHONE = [{ VALUE: `+49 30 ${String(100000 + i)}`, VALUE_TYPE: 'HOME' }];
    if (i % 4 === 3) lead.EMAIL = [{ VALUE: `old.${tag}${i}@example.org`, VALUE_TYPE: 'HOME' }];
    return lead;
  });
  const ids = sb.seedLeads(seeds);
  const before = new Map<number, { phones: string[]; emails: string[] }>();
  for (const id of ids) before.set(id, multis(sb.lead(id)!));

  const rows: FileRow[] = [];
  const lines = [HEADER];
  ids.forEach((id, i) => {
    const line = i + 2;
    let kind: FileRow['kind'] = 'update';
    let rowId = id;
    let email = `${tag}.${i}@example.com`;
    if (i % 1000 === 999) {
      kind = 'missing';
      rowId = 9_000_000 + i;
    } else if (i % 1500 === 700) {
      kind = 'invalid';
      email = `${tag}.${i}@`;
    }
    const title = `${tag} lead ${i}`;
    const phone = `+7900${phoneDigits(tag, i).slice(4)}`;
    rows.push({ line, id: rowId, kind, title, phone, email });
    lines.push(`${rowId},${title},${phone},${email}`);
  });
  return { csv: lines.join('\n') + '\n', rows, before };
}

/** A stable 11-digit phone per (tag, i): 7900 + 7 digits. */
function phoneDigits(tag: string, i: number): string {
  let h = 0;
  for (const c of tag) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return `7900${String((h * 10_000 + i) % 10_000_000).padStart(7, '0')}`;
}

function multis(lead: LeadRecord): { phones: string[]; emails: string[] } {
  return {
    phones: (lead.PHONE ?? []).map((p) => normaliseMulti('PHONE', p.VALUE)),
    emails: (lead.EMAIL ?? []).map((e) => normaliseMulti('EMAIL', e.VALUE)),
  };
}

/** Leads holding the same phone or e-mail twice (normalised as the diff planner compares them). */
export function duplicates(sb: Sandbox): string[] {
  const out: string[] = [];
  for (const lead of sb.leads()) {
    const { phones, emails } = multis(lead);
    if (new Set(phones).size !== phones.length) out.push(`${lead.ID} PHONE: ${phones.join(', ')}`);
    if (new Set(emails).size !== emails.length) out.push(`${lead.ID} EMAIL: ${emails.join(', ')}`);
  }
  return out;
}

/**
 * Every lead of the file against what the file asked for: updated rows → the row's TITLE, its phone and e-mail
 * added to whatever the lead held (merge), nothing else; invalid rows' leads untouched. Returns the mismatches.
 */
export function leadMismatches(sb: Sandbox, file: LeadFile, statuses?: Map<number, RowStatus>): string[] {
  const out: string[] = [];
  for (const r of file.rows) {
    if (r.kind === 'missing') continue;
    const lead = sb.lead(r.id);
    if (!lead) {
      out.push(`${r.id}: lead gone`);
      continue;
    }
    const was = file.before.get(r.id)!;
    const now = multis(lead);
    const skipped = statuses?.get(r.line) === 'skipped';
    const want =
      r.kind === 'invalid' || skipped
        ? { title: undefined, phones: was.phones, emails: was.emails }
        : {
            title: r.title,
            phones: union(was.phones, [normaliseMulti('PHONE', r.phone)]),
            emails: union(was.emails, [normaliseMulti('EMAIL', r.email)]),
          };
    if (want.title !== undefined && lead.TITLE !== want.title) out.push(`${r.id}: TITLE ${String(lead.TITLE)} ≠ ${want.title}`);
    if (want.title === undefined && lead.TITLE === r.title)
      out.push(`${r.id}: written although its row was ${r.kind === 'invalid' ? 'invalid' : 'skipped'}`);
    if (now.phones.slice().sort().join() !== want.phones.slice().sort().join())
      out.push(`${r.id}: PHONE ${now.phones.join('|')} ≠ ${want.phones.join('|')}`);
    if (now.emails.slice().sort().join() !== want.emails.slice().sort().join())
      out.push(`${r.id}: EMAIL ${now.emails.join('|')} ≠ ${want.emails.join('|')}`);
  }
  return out;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** One parsed report.csv line (the report's columns, as the engine wrote them). */
export type ReportLine = Omit<RowOutcome, 'changes'>;

export async function readText(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.read(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** report.csv → its data lines (a real CSV parser: messages hold commas and quotes). */
export function parseReport(text: string): ReportLine[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  return records.map((r) => ({
    line: Number(r.line),
    id: r.id,
    status: r.status as RowStatus,
    errorCode: r.error_code,
    message: r.error_message,
    attempts: Number(r.attempts),
  }));
}

/**
 * The report against the file: exactly one line per row, in file order, with the status its kind implies
 * (`allowed` lists the statuses a row that updates a lead may end with in this scenario; with `skipped` in it, a
 * row for a missing lead may be skipped too: a halted run never reached it). Returns the problems.
 */
export function reportMismatches(report: ReportLine[], file: LeadFile, allowed: RowStatus[] = ['updated']): string[] {
  const out: string[] = [];
  if (report.length !== file.rows.length) out.push(`${report.length} report lines for ${file.rows.length} rows`);
  const lines = report.map((l) => l.line);
  const want = file.rows.map((r) => r.line);
  if (lines.join() !== want.join()) out.push('report lines are not the file rows, once each, in order');
  const byLine = new Map(report.map((l) => [l.line, l]));
  for (const r of file.rows) {
    const l = byLine.get(r.line);
    if (!l) continue;
    if (l.id !== String(r.id)) out.push(`line ${r.line}: id ${l.id} ≠ ${r.id}`);
    if (
      r.kind === 'missing' &&
      !(allowed.includes('skipped') && l.status === 'skipped') &&
      !(l.status === 'failed' && l.errorCode === 'NOT_FOUND')
    )
      out.push(`line ${r.line}: ${l.status} ${l.errorCode}, expected failed NOT_FOUND`);
    if (r.kind === 'invalid' && l.status !== 'invalid') out.push(`line ${r.line}: ${l.status}, expected invalid`);
    if (r.kind === 'update' && !allowed.includes(l.status)) out.push(`line ${r.line}: ${l.status} ${l.errorCode} ${l.message}`);
  }
  return out;
}

/** summary.json's counts and error codes recomputed from the report's lines. */
export function countsOf(report: ReportLine[]): { counts: Record<string, number>; errorCodes: Record<string, number> } {
  const counts: Record<string, number> = { updated: 0, unchanged: 0, valid: 0, invalid: 0, failed: 0, skipped: 0 };
  const errorCodes: Record<string, number> = {};
  for (const l of report) {
    counts[l.status] += 1;
    if (l.errorCode) errorCodes[l.errorCode] = (errorCodes[l.errorCode] ?? 0) + 1;
  }
  return { counts, errorCodes };
}

/** The secret parts of a webhook URL: the code, and the whole URL. */
export function secretsOf(webhookUrl: string): string[] {
  const m = /\/rest\/[^/]+\/([^/]+)\//.exec(webhookUrl);
  if (!m) throw new Error('not a webhook URL');
  return [m[1], webhookUrl, webhookUrl.replace(/\/$/, '')];
}

/** Names of the outputs (report, logs, states…) that contain a secret. */
export function leaks(outputs: Record<string, string>, secrets: string[]): string[] {
  return Object.entries(outputs)
    .filter(([, text]) => secrets.some((s) => text.includes(s)))
    .map(([name]) => name);
}

/** Writes per lead in the portal's ledger (every applied crm.lead.update). */
export function writesPerLead(sb: Sandbox): Map<number, number> {
  const per = new Map<number, number>();
  for (const e of sb.ledger()) if (e.method === 'crm.lead.update') per.set(Number(e.id), (per.get(Number(e.id)) ?? 0) + 1);
  return per;
}
