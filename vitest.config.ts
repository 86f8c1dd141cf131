import { defineConfig } from 'vitest/config';

// Every suite runs in Node: edge suites start the real Worker in workerd (wrangler's startWorker) and
// talk to it over HTTP, backend suites start the real server, so both tiers are met as callers meet them.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start servers and WebAssembly runtimes; two at a time fits a 2-core machine.
    maxWorkers: 2,
  },
});
