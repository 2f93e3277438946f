import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LinkSigner } from '../../lambda/aws/runEnd.ts';
import type { MessagePublisher, PublishInput } from '../../lambda/aws/runMail.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';

/**
 * The run's end as `npm start` delivers it: finalize mails its message to a local SNS topic (the same Publish
 * request a deployed stack with notifyEmail sends), whose links point at local copies of the run's files.
 */

/**
 * A local SNS topic: keeps each run's last published request by its runId attribute (a retried finalize
 * publishes again), and hands every request to `observe` as well (tests).
 */
export class LocalTopic implements MessagePublisher {
  static readonly ARN = 'arn:aws:sns:us-east-1:000000000000:b24-lead-import-local-runs';
  private readonly byRun = new Map<string, PublishInput>();
  private count = 0;

  constructor(private readonly observe?: (input: PublishInput) => void) {}

  async publish(input: PublishInput): Promise<{ MessageId: string }> {
    this.byRun.set(input.MessageAttributes.runId?.StringValue ?? '', input);
    this.observe?.(input);
    return { MessageId: `local-${++this.count}` };
  }

  published(runId: string): PublishInput | undefined {
    return this.byRun.get(runId);
  }
}

/**
 * Links to copies of the objects under `dir/<runId>/<name>` (a report key is reports/<file>/<runId>/<name>):
 * s3rver keeps objects as `*._S3rver_object`, which do not open as HTML or in a spreadsheet. No expiry.
 */
export function localCopySigner(storeOf: (bucket: string) => ObjectStore, dir: string): LinkSigner {
  return async (bucket, key) => {
    const chunks: Buffer[] = [];
    for await (const c of await storeOf(bucket).read(key)) chunks.push(Buffer.from(c as Uint8Array));
    const folder = join(dir, basename(dirname(key)));
    await mkdir(folder, { recursive: true });
    const path = join(folder, basename(key));
    await writeFile(path, Buffer.concat(chunks));
    return { url: path };
  };
}
