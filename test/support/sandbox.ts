import { afterAll, beforeEach } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox';

/** One sandbox per test file, emptied before each test. */
export function useSandbox(options: SandboxOptions = {}): () => Sandbox {
  let sandbox: Sandbox | undefined;
  const started = startSandbox(options).then((s) => {
    sandbox = s;
    return s;
  });
  beforeEach(async () => {
    (await started).reset();
  });
  afterAll(async () => {
    await (await started).close();
  });
  return () => {
    if (!sandbox) throw new Error('sandbox not started yet: call the getter inside a test');
    return sandbox;
  };
}
