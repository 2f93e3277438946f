import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readEnv, StartEnvSchema } from '../../lambda/aws/env.ts';
import { createLogger } from '../../lambda/aws/log.ts';
import { createStartHandler, type ExecutionStarter } from '../../lambda/aws/startHandler.ts';
import type { RunState } from '../../lambda/run/state.ts';
import { FsStore } from '../../lambda/stores/fsStore.ts';
import type { ObjectStore } from '../../lambda/stores/store.ts';

/** A versioned bucket as the start handler sees it: HeadObject answers the LATEST version (a later upload). */
async function setup() {
  const queue = new FsStore(await mkdtemp(join(tmpdir(), 'start-')));
  const store: ObjectStore = Object.assign(Object.create(queue) as ObjectStore, {
    head: async (key: string) => ({ key, size: 999, etag: 'e-latest', versionId: 'v-latest' }),
  });
  const started: Array<{ name: string; input: RunState }> = [];
  const status = new Map<string, string>();
  const sfn: ExecutionStarter = {
    startExecution: async ({ name, input }) => {
      started.push({ name, input: JSON.parse(input) as RunState });
      status.set(name, 'RUNNING');
      return { executionArn: name };
    },
    describeExecution: async ({ name }) => {
      const s = status.get(name);
      if (!s) throw new ExecutionDoesNotExist({ message: 'no', $metadata: {} });
      return { status: s };
    },
  };
  const env = readEnv(StartEnvSchema, {
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:sm',
    DRY_RUN: 'true',
    LOG_LEVEL: 'SILENT',
  });
  const log = createLogger({ service: 'test', level: 'SILENT' });
  const start = createStartHandler({ env, store: () => store, sfn, log, queueBucket: 'leads' });
  return { start, started, status };
}

const event = (versionId: string, sequencer: string, eTag: string, size: number): S3Event =>
  ({
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        eventTime: '2024-05-01T10:00:00.000Z',
        s3: { bucket: { name: 'leads' }, object: { key: 'incoming/a.csv', versionId, eTag, size, sequencer } },
      },
    ],
  }) as unknown as S3Event;

describe('start pins the version the event names', () => {
  it('a versioned event runs its own version, size and ETag, not the latest one HeadObject sees', async () => {
    const { start, started } = await setup();
    const { runs } = await start(event('v-1', '0055AED6DCD90281E5', '"e-1"', 10));
    expect(runs[0].status).toBe('started');
    expect(started[0].input.source).toMatchObject({ key: 'incoming/a.csv', versionId: 'v-1', etag: 'e-1', size: 10 });
  });

  it('an older version whose event arrives after a newer one ran applies nothing: every row skipped (SUPERSEDED)', async () => {
    const { start, started, status } = await setup();
    await start(event('v-2', '0055AED6DCD90281F0', '"e-2"', 20));
    status.set(started[0].name, 'SUCCEEDED');
    await start({ dispatch: true });
    await start(event('v-1', '0055AED6DCD90281E5', '"e-1"', 10));
    expect(started).toHaveLength(2);
    expect(started[0].input.checkpoint.halted).toBeUndefined();
    expect(started[1].input.source.versionId).toBe('v-1');
    expect(started[1].input.checkpoint.halted?.code).toBe('SUPERSEDED');
  });
});
