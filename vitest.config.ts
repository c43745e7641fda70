import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    // Three files at once on two cores: the emulator files spend most of their time waiting on SQS's visibility
    // timeouts, so a third worker overlaps them with the CPU-bound files.
    maxWorkers: 3,
    hookTimeout: 60_000,
    env: {
      // The AWS SDK warns once per process that Node 20 support ends in 2027; Lambda runs nodejs22.x.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
