import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { rowsNeedingAttention } from '../report/lines.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, type NoticeLinks, runEventDetail } from '../report/notice.ts';
import type { Summary } from '../run/state.ts';
import { errorFields, type Logger, redactText } from './log.ts';
import type { SignedLink } from './presign.ts';

/** The narrow EventBridge edge (EventBridgeClient's PutEvents in Lambda; a fake in tests). */
export interface EventPublisher {
  putEvents(entries: PutEventsRequestEntry[]): Promise<Pick<PutEventsResponse, 'FailedEntryCount' | 'Entries'>>;
}

/** Pre-signs a GET of one object of the bucket (presignGet on the Lambda's S3 client). */
export type LinkSigner = (bucket: string, key: string) => Promise<SignedLink>;

/** The folder of the run's files, where they stay once the links have expired. */
export function reportFolder(summary: Summary, bucket: string): string {
  return `s3://${bucket}/${summary.report.summary.replace(/[^/]*$/, '')}`;
}

/**
 * The links the run's message carries: report.html, and rejected.csv when rows need fixing; valid until the
 * earliest of their expiries (7 days, or the signing session's end).
 */
export async function noticeLinks(summary: Summary, bucket: string, sign: LinkSigner): Promise<NoticeLinks> {
  const signed: { html?: SignedLink; rejected?: SignedLink } = {};
  if (summary.report.html) signed.html = await sign(bucket, summary.report.html);
  if (rowsNeedingAttention(summary) > 0) signed.rejected = await sign(bucket, summary.report.rejected);
  const expiries = Object.values(signed).map((l) => l.expiresAt.getTime());
  return {
    ...(signed.html ? { html: signed.html.url } : {}),
    ...(signed.rejected ? { rejected: signed.rejected.url } : {}),
    ...(expiries.length > 0 ? { validUntil: new Date(Math.min(...expiries)).toISOString() } : {}),
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

/**
 * Publishes the run's end. Never throws: the reports are written already, a lost message must not fail the run
 * (the execution would fail after its work is done); the failure is logged at ERROR instead.
 */
export async function publishRunEnd(
  summary: Summary,
  bucket: string,
  deps: { events: EventPublisher; sign?: LinkSigner; log: Logger },
): Promise<boolean> {
  try {
    const links = deps.sign ? await noticeLinks(summary, bucket, deps.sign) : { folder: reportFolder(summary, bucket) };
    const res = await deps.events.putEvents([runEndEntry(summary, bucket, links)]);
    if ((res.FailedEntryCount ?? 0) > 0) {
      const entry = res.Entries?.[0];
      throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''}`);
    }
    deps.log.info('run end published', { source: EVENT_SOURCE, detailType: EVENT_DETAIL_TYPE, eventId: res.Entries?.[0]?.EventId });
    return true;
  } catch (err) {
    deps.log.error('could not publish the run end event (the run is finalized, its reports are written)', errorFields(err));
    return false;
  }
}
