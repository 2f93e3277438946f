import { describe, expect, it } from 'vitest';
import { classify, codeKind, HALT_CODES } from '../../lambda/calls/http/verdict.ts';

describe('codeKind: one table for whole answers and batch commands', () => {
  it('sorts the codes the client and the sender act on', () => {
    expect(codeKind('QUERY_LIMIT_EXCEEDED')).toBe('rate');
    expect(codeKind('OPERATION_TIME_LIMIT')).toBe('operating');
    expect(codeKind('OVERLOAD_LIMIT')).toBe('halt');
    expect(codeKind('INTERNAL_SERVER_ERROR')).toBe('transient');
    expect(codeKind('ERROR_UNEXPECTED_ANSWER')).toBe('transient');
    expect(codeKind('ERROR_BATCH_LENGTH_EXCEEDED')).toBe('final');
    expect(codeKind('')).toBe('final');
  });

  it('agrees with classify for every halt code, whatever the status', () => {
    for (const code of HALT_CODES) {
      expect(codeKind(code)).toBe('halt');
      expect(classify(401, { error: code, error_description: '' }).kind).toBe('halt');
      expect(classify(503, { error: code, error_description: '' }).kind).toBe('halt');
    }
  });
});
