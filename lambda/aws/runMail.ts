import type { PublishCommandInput, PublishCommandOutput } from '@aws-sdk/client-sns';
import { runResult } from '../report/notice.ts';
import type { Summary } from '../run/state.ts';
import { errorFields, type Logger } from './log.ts';

/**
 * The run's message mailed by finalize itself (SNS Publish), not by an EventBridge rule: an input transformer
 * with a string template hands SNS the text JSON-quoted (surrounding quotes, `\n` as a literal backslash-n in
 * the mail), while Publish sends exactly the text `npm start` prints.
 */

/** The narrow SNS edge (SNSClient's Publish in Lambda; a fake locally and in tests). */
export interface MessagePublisher {
  publish(input: PublishInput): Promise<Pick<PublishCommandOutput, 'MessageId'>>;
}

/** The Publish request finalize sends (a PublishCommandInput with every field it sets present). */
export interface PublishInput extends PublishCommandInput {
  TopicArn: string;
  Subject: string;
  Message: string;
  MessageAttributes: Record<'runId' | 'result', { DataType: 'String'; StringValue: string }>;
}

/** Where finalize mails the message (the stack sets NOTIFY_TOPIC_ARN only with notifyEmail). */
export interface RunMail {
  sns: MessagePublisher;
  topicArn: string;
}

/** SNS takes subjects of fewer than 100 characters, no line breaks or control characters. */
export const MAX_SUBJECT_CHARS = 99;

/** Printable ASCII only (mail clients mangle the rest in a subject line): accents dropped, other runs one `?`. */
export function asciiSafe(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]+/g, '?')
    .trim();
}

/** "b24-lead-import: [dry run of ]<file name> - <result>", the file name shortened to fit 99 characters. */
export function mailSubject(s: Summary): string {
  const head = `b24-lead-import: ${s.dryRun ? 'dry run of ' : ''}`;
  const tail = ` - ${runResult(s)}`;
  const name = asciiSafe(s.source.replace(/^.*\//, '')) || '?';
  const room = MAX_SUBJECT_CHARS - head.length - tail.length;
  return `${head}${name.length > room ? `${name.slice(0, room - 3)}...` : name}${tail}`;
}

/** The Publish request: the message as it is, attributes a subscription's filter policy can match on. */
export function publishInput(s: Summary, message: string, topicArn: string): PublishInput {
  return {
    TopicArn: topicArn,
    Subject: mailSubject(s),
    Message: message,
    MessageAttributes: {
      runId: { DataType: 'String', StringValue: s.runId },
      result: { DataType: 'String', StringValue: runResult(s) },
    },
  };
}

/** Mails the run's message. Never throws: the reports are written, a lost mail must not fail the run (WARN). */
export async function mailRunEnd(s: Summary, message: string, mail: RunMail, log: Logger): Promise<boolean> {
  try {
    const res = await mail.sns.publish(publishInput(s, message, mail.topicArn));
    log.info('run end mailed', { messageId: res.MessageId });
    return true;
  } catch (err) {
    log.warn('could not mail the run end message (the run is finalized, its reports are written)', errorFields(err));
    return false;
  }
}
