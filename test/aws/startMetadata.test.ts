import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readEnv, StartEnvSchema } from '../../lambda/aws/env.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { createStartHandler, type ExecutionStarter } from '../../lambda/aws/startHandler.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import { S3Store } from '../../lambda/stores/s3Store.ts';

/**
 * A versioned bucket: the file's options are the metadata of the version the event names (HeadObject with its
 * VersionId), not of whatever was uploaded since. s3rver keeps no versions, so S3 is played by its one answer.
 */
describe("start reads the options of the event's own version", () => {
  it('HeadObject asks for the pinned VersionId and the run takes that version’s b24-options', async () => {
    const heads: Array<{ Key?: string; VersionId?: string }> = [];
    const client = {
      send: async (cmd: unknown) => {
        if (!(cmd instanceof HeadObjectCommand)) throw new Error('only HeadObject is expected');
        heads.push(cmd.input);
        const v1 = cmd.input.VersionId === 'v-1';
        return { Metadata: { 'b24-options': v1 ? '--multifield replace' : '--frobnicate' }, ETag: v1 ? '"e-1"' : '"e-2"' };
      },
    } as unknown as S3Client;
    const queue = new FsStore(await mkdtemp(join(tmpdir(), 'start-meta-')));
    const started: RunState[] = [];
    const sfn: ExecutionStarter = {
      startExecution: async ({ input }) => {
        started.push(JSON.parse(input) as RunState);
        return {};
      },
      describeExecution: async () => {
        throw new ExecutionDoesNotExist({ message: 'no', $metadata: {} });
      },
    };
    const start = createStartHandler({
      env: readEnv(StartEnvSchema, { STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:sm', LOG_LEVEL: 'SILENT' }),
      store: (bucket) => (bucket === 'leads' ? new S3Store(client, 'leads') : queue),
      sfn,
      log: createLogger({ service: 'test', level: 'SILENT' }),
      queueBucket: 'queue',
    });
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          eventTime: '2024-05-01T10:00:00.000Z',
          s3: { bucket: { name: 'leads' }, object: { key: 'incoming/a.csv', versionId: 'v-1', eTag: '"e-1"', size: 10, sequencer: '01' } },
        },
      ],
    } as unknown as S3Event;
    const { runs } = await start(event);
    expect(runs[0]).toMatchObject({ status: 'started' });
    expect(heads).toEqual([{ Bucket: 'leads', Key: 'incoming/a.csv', VersionId: 'v-1' }]);
    expect(started[0].options.multifield).toBe('replace');
    expect(started[0].checkpoint.refused).toBeUndefined();
  });
});
