import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { rowsNeedingAttention } from '../report/lines.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, type NoticeLinks, runEventDetail, runMessage } from '../report/notice.ts';
import type { Summary } from '../run/state.ts';
import { errorFields, type Logger, redactText } from './log.ts';
import type { SignedLink } from './presign.ts';
import { mailRunEnd, type RunMail } from './runMail.ts';

/** The narrow EventBridge edge (EventBridgeClient's PutEvents in Lambda; a fake in tests). */
export interface EventPublisher {
  putEvents(entries: PutEventsRequestEntry[]): Promise<Pick<PutEventsResponse, 'FailedEntryCount' | 'Entries'>>;
}

/**
 * A link to one object of the bucket: pre-signed in Lambda (presignGet on its S3 client), a local copy in
 * `npm start` (no expiry).
 */
export type LinkSigner = (bucket: string, key: string) => Promise<Pick<SignedLink, 'url'> & Partial<SignedLink>>;

/** The folder of the run's files, where they stay once the links have expired. */
export function reportFolder(summary: Summary, bucket: string): string {
  return `s3://${bucket}/${summary.report.summary.replace(/[^/]*$/, '')}`;
}

/**
 * The links the run's message carries: report.html, and rejected.csv when rows need fixing; valid until the
 * earliest of their expiries (7 days, or the signing credentials' end), or sooner when that end is unknown.
 */
export async function noticeLinks(summary: Summary, bucket: string, sign: LinkSigner): Promise<NoticeLinks> {
  const signed: { html?: Awaited<ReturnType<LinkSigner>>; rejected?: Awaited<ReturnType<LinkSigner>> } = {};
  if (summary.report.html) signed.html = await sign(bucket, summary.report.html);
  if (rowsNeedingAttention(summary) > 0) signed.rejected = await sign(bucket, summary.report.rejected);
  const expiries = Object.values(signed).flatMap((l) => (l.expiresAt ? [l.expiresAt.getTime()] : []));
  const sessionBound = Object.values(signed).some((l) => l.sessionBound);
  return {
    ...(signed.html ? { html: signed.html.url } : {}),
    ...(signed.rejected ? { rejected: signed.rejected.url } : {}),
    ...(expiries.length > 0 ? { validUntil: new Date(Math.min(...expiries)).toISOString() } : {}),
    ...(sessionBound ? { sessionBound } : {}),
    folder: reportFolder(summary, bucket),
  };
}

/** The one EventBridge entry of a run's end (default bus), its detail from notice.ts. */
export function runEndEntry(summary: Summary, bucket: string, links: NoticeLinks): PutEventsRequestEntry {
  // The summary's texts are redacted already; the whole detail once more, so no webhook can ride along.
  return {
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPE,
    Detail: redactText(JSON.stringify(runEventDetail(summary, bucket, links))),
  };
}

/** Where a run's end goes: the event (EventBridge) and the mail (SNS), each optional. */
export interface RunEndEdges {
  events?: EventPublisher;
  mail?: RunMail;
  sign?: LinkSigner;
  log: Logger;
}

/** The links, or only the folder when signing fails: the message still goes out, without the links. */
async function linksOrFolder(summary: Summary, bucket: string, deps: RunEndEdges): Promise<NoticeLinks> {
  if (!deps.sign) return { folder: reportFolder(summary, bucket) };
  try {
    return await noticeLinks(summary, bucket, deps.sign);
  } catch (err) {
    deps.log.warn("could not sign the message's links; it names the folder only", errorFields(err));
    return { folder: reportFolder(summary, bucket) };
  }
}

/**
 * Publishes the run's end: one message text (runMessage of these links) in the event's detail and in the mail.
 * Never throws: the reports are written already, a lost message must not fail the run (the execution would
 * fail after its work is done); a failure is logged instead. Resolves with what was delivered.
 */
export async function publishRunEnd(
  summary: Summary,
  bucket: string,
  deps: RunEndEdges,
): Promise<{ event: boolean; mail: boolean; message: string }> {
  const links = await linksOrFolder(summary, bucket, deps);
  const message = redactText(runMessage(summary, links));
  const [event, mail] = await Promise.all([
    deps.events ? putRunEnd(summary, bucket, links, deps.events, deps.log) : false,
    deps.mail ? mailRunEnd(summary, message, deps.mail, deps.log) : false,
  ]);
  return { event, mail, message };
}

async function putRunEnd(summary: Summary, bucket: string, links: NoticeLinks, events: EventPublisher, log: Logger): Promise<boolean> {
  try {
    const res = await events.putEvents([runEndEntry(summary, bucket, links)]);
    if ((res.FailedEntryCount ?? 0) > 0) {
      const entry = res.Entries?.[0];
      throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''}`);
    }
    log.info('run end published', { source: EVENT_SOURCE, detailType: EVENT_DETAIL_TYPE, eventId: res.Entries?.[0]?.EventId });
    return true;
  } catch (err) {
    log.error('could not publish the run end event (the run is finalized, its reports are written)', errorFields(err));
    return false;
  }
}
