import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_FUNCTIONS,
  resolveDefinitionString,
  synthesiseDefinition,
  workflowDefinition,
} from '../../../harness/flow/asl/definition.ts';
import { LocalStateMachine } from '../../../harness/flow/stateMachine.ts';
import type { Definition } from '../../../harness/flow/asl/types.ts';
import type { Summary } from '../../../lambda/run/state.ts';
import { CHUNK_RETRIERS, RUN_TIMEOUT_HOURS } from '../../../infra/retryPolicy.ts';
import { logicalId, synth } from '../../support/infra.ts';

describe('the definition the local flow runs', () => {
  let local: Definition;
  beforeAll(() => {
    local = workflowDefinition();
  });

  it('is valid Amazon States Language (asl-validator: schema, transitions, terminal states, paths)', () => {
    // The validator writes into what it is given: a copy.
    const { isValid, errors } = aslValidator(structuredClone(local));
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it("is infra/workflow.ts as the CDK synthesises it: the Chunk state's retriers are infra/retryPolicy.ts's, the timeout the run's", () => {
    expect(local.TimeoutSeconds).toBe(RUN_TIMEOUT_HOURS * 3600);
    expect(local.States.Chunk.Resource).toBe(LOCAL_FUNCTIONS.chunk);
    expect(local.States.Chunk.Retry?.map((r) => [r.ErrorEquals, r.MaxAttempts])).toEqual(
      CHUNK_RETRIERS.map((r) => [r.errors, r.maxAttempts]),
    );
    expect(local.States.Continue.Resource).toBe('arn:aws:states:::states:startExecution');
    // The machine runs it (one definition: there is no hand-written copy to fall out of step).
    const machine = new LocalStateMachine({ chunk: async (s) => s, finalize: async () => ({}) as Summary });
    expect(machine.definition).toEqual(local);
  });

  it('is cached per process and handed out as a copy (a test that edits its copy changes no other machine)', () => {
    const a = workflowDefinition();
    a.States.Chunk.Retry = [];
    expect(workflowDefinition()).toEqual(local);
  });

  it('refuses a token it cannot resolve rather than guessing', () => {
    const def = { 'Fn::Join': ['', ['{"StartAt":"', { 'Fn::GetAtt': ['Other', 'Arn'] }, '"}']] };
    expect(() => resolveDefinitionString(def)).toThrow(/cannot resolve/);
  });

  it('equals the definition of the deployed stack, once its functions are named by the local ARNs', () => {
    const s = synth({ webhookSecretName: 'tests/fake-webhook-secret-name' });
    const [machine] = Object.values(s.template.findResources('AWS::StepFunctions::StateMachine'));
    const arnOf: Record<string, string> = {
      [logicalId(s.stack.chunk.fn)]: LOCAL_FUNCTIONS.chunk,
      [logicalId(s.stack.finalize.fn)]: LOCAL_FUNCTIONS.finalize,
    };
    const deployed = resolveDefinitionString(machine.Properties.DefinitionString, (token) => {
      const [id, attribute] = (token as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'] ?? ['', ''];
      return attribute === 'Arn' ? arnOf[id] : undefined;
    });
    expect(deployed).toEqual(synthesiseDefinition());
  }, 180_000);
});
