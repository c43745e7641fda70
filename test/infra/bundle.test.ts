import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { readConfig, readRoleMappingFile } from '../../lib/config';
import type { ServiceFunction } from '../../lib/service-function';
import { newApp, removeAssemblies } from './infra-harness';

/*
 * What esbuild made of the handlers: each bundle must load as an ES module on Node and export `handler`,
 * and the worker's must carry the role mapping, inlined at synth.
 */

const run = promisify(execFile);
const bundles = new Map<'ingest' | 'worker' | 'probe' | 'policy-probe', string>();

// Quotes, backslashes, `$` and `|`: everything that could break on its way through esbuild's command line.
const AWKWARD_MAPPING = {
  default: ['tenant-member'],
  rules: [
    {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is what this test is about
      name: 'quotes "double" \'single\' `back` $HOME ${x} \\ back\\slash',
      when: { title: '/^(staff|principal) engineer$/i', 'attributes.cost-center': ['R&D', 'a;b'] },
      roles: ['tenant-admin'],
    },
  ],
};

// The same, for the policy; its roles cover the mapping above, or synth would refuse it.
const AWKWARD_POLICY = {
  allowedRoles: { tenant: ['tenant-admin', 'tenant-member', 'a "quoted" `role` $HOME \\ x'] },
  explicitRoles: ['token'],
  protectedAccounts: ['o\'brien."q"-$home-*@example.com'],
  allowedEmailDomains: ['example.com'],
};
let probePolicy: unknown;

function functionBundle(app: App, fn: ServiceFunction): string {
  const code = fn.function.node.findChild('Code') as unknown as { assetPath: string };
  return join(app.outdir, code.assetPath, 'index.mjs');
}

afterAll(removeAssemblies);

beforeAll(() => {
  const app = newApp();
  const stack = buildApp(app);
  app.synth();
  bundles.set('ingest', functionBundle(app, stack.provisioning.ingest));
  bundles.set('worker', functionBundle(app, stack.provisioning.worker));

  const mappingFile = join(mkdtempSync(join(tmpdir(), 'hr-provisioning-mapping-')), 'awkward.json');
  writeFileSync(mappingFile, JSON.stringify(AWKWARD_MAPPING));
  const policyFile = join(mkdtempSync(join(tmpdir(), 'hr-provisioning-policy-')), 'awkward.json');
  writeFileSync(policyFile, JSON.stringify(AWKWARD_POLICY));
  const probeApp = newApp({ stage: 'probe', roleMappingFile: mappingFile, policyFile });
  const probeStack = buildApp(probeApp, {
    entries: {
      worker: 'test/infra/fixtures/role-mapping-probe.ts',
      ingest: 'test/infra/fixtures/policy-probe.ts',
    },
  });
  probeApp.synth();
  bundles.set('probe', functionBundle(probeApp, probeStack.provisioning.worker));
  bundles.set('policy-probe', functionBundle(probeApp, probeStack.provisioning.ingest));
  probePolicy = readConfig(probeApp.node).policy;
});

const bundlePath = (fn: 'ingest' | 'worker' | 'probe' | 'policy-probe') => bundles.get(fn) as string;

// Enough environment for the handlers' cold-start validation; nothing is called.
const LAMBDA_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  TABLE_NAME: 'table',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo',
  DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq.fifo',
  INGEST_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-AbCdEf',
  TFY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tfy-AbCdEf',
};

describe.each(['ingest', 'worker'] as const)('the %s bundle', (fn) => {
  it('is a minified ES module with a source map', () => {
    const code = readFileSync(bundlePath(fn), 'utf8');
    expect(code.startsWith("import { createRequire as __createRequire } from 'node:module';")).toBe(true);
    expect(existsSync(`${bundlePath(fn)}.map`)).toBe(true);
    expect(code).toContain('//# sourceMappingURL=index.mjs.map');
  });

  it('loads on Node and exports handler', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundlePath(fn))}); console.log(typeof m.handler);`,
      ],
      { env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV }, timeout: 20_000 },
    );
    expect(stdout.trim()).toBe('function');
  });

  it('does not import better-sqlite3 (the local runtime only)', () => {
    expect(readFileSync(bundlePath(fn), 'utf8')).not.toMatch(/["']better-sqlite3["']/);
  });
});

describe('the role mapping define', () => {
  it('inlines the validated file byte for byte where the code reads process.env.ROLE_MAPPING_JSON', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundlePath('probe'))}); process.stdout.write(await m.handler());`,
      ],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
    );
    expect(JSON.parse(stdout)).toEqual(AWKWARD_MAPPING);
  });
});

describe('the policy define', () => {
  const probe = async (fn: 'probe' | 'policy-probe', exported: string) => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundlePath(fn))}); process.stdout.write(await m.${exported}());`,
      ],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
    );
    return JSON.parse(stdout) as unknown;
  };

  it('inlines the policy resolved at synth into the ingest and the worker bundles alike', async () => {
    expect(probePolicy).toMatchObject({ file: expect.stringContaining('awkward.json'), ...AWKWARD_POLICY });
    expect(await probe('policy-probe', 'handler')).toEqual(probePolicy);
    expect(await probe('probe', 'policy')).toEqual(probePolicy);
  });
});

describe('the worker bundle', () => {
  it('carries the role mapping validated at synth', () => {
    const mapping = readRoleMappingFile('config/role-mapping.json');
    const code = readFileSync(bundlePath('worker'), 'utf8');
    const names = (mapping.rules ?? []).map((rule) => rule.name);
    expect(names.length).toBeGreaterThan(0);
    // (Not toContain on the code: a failure would print the whole megabyte bundle.)
    expect(names.filter((name) => name && !code.includes(JSON.stringify(name).slice(1, -1)))).toEqual([]);
  });
});
