import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start their own servers on port 0; two workers match the 2-core machines.
    maxWorkers: 2,
    // The tests' portals are sandboxes on loopback, which the client reaches only in the explicit local mode
    // (tests of the non-local rules pass localMode: false themselves).
    env: { B24_LOCAL_MODE: '1' },
  },
});
