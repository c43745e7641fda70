import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { readConfig, readRoleMappingFile } from '../../lib/config';
import {
  BUNDLE_METAFILE_CONTEXT,
  LAMBDA_NODE_OPTIONS,
  type ServiceFunction,
  UNREACHED_CREDENTIAL_PROVIDERS,
} from '../../lib/service-function';
import { newApp, removeAssemblies } from './infra-harness';

/*
 * What esbuild made of the handlers: each bundle must load as an ES module on Node and export `handler`,
 * stay within its size budget (issue 14: a cold start compiles all of it), and the worker's must carry the
 * role mapping, inlined at synth.
 */

const run = promisify(execFile);
const bundles = new Map<'ingest' | 'worker' | 'probe' | 'policy-probe', string>();

/**
 * Each bundle's budget, minified and without its source map. Issue 14's target is 300 KB; with the AWS SDK
 * bundled its three clients weigh about 250 KB alone, so the bundles were 600-680 KB when this was set
 * (bench/cold-start.bench.ts has the breakdown). The budget leaves room for features and fails on a
 * regression of the kind that made them a megabyte (zod imported as `{ z }`: its 64 locales, 360 KB).
 */
const BUNDLE_BUDGET_KB = 760;

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

type Metafile = {
  outputs: Record<
    string,
    {
      inputs: Record<string, { bytesInOutput: number }>;
      imports: { path: string; kind: string; external?: boolean }[];
    }
  >;
};

/** esbuild's metafile of a bundle (written beside it: the app's context asks for it). */
const metafileOf = (bundle: string): Metafile =>
  JSON.parse(readFileSync(join(bundle, '..', 'index.meta.json'), 'utf8')) as Metafile;

/** The files that left code in the bundle (the metafile's inputs also list what tree-shaking dropped). */
const bundledInputs = (bundle: string): string[] =>
  Object.values(metafileOf(bundle).outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([file]) => file),
  );

function functionBundle(app: App, fn: ServiceFunction): string {
  const code = fn.function.node.findChild('Code') as unknown as { assetPath: string };
  return join(app.outdir, code.assetPath, 'index.mjs');
}

afterAll(removeAssemblies);

beforeAll(() => {
  const app = newApp({ [BUNDLE_METAFILE_CONTEXT]: true });
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

// Enough environment for the handlers' cold-start validation; nothing is called. AWS_EXECUTION_ENV and
// NODE_OPTIONS as on Lambda: Powertools Tracer instruments the process, Node reads the source map.
const LAMBDA_ENV = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
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

  it('loads in a fresh Node process, as on Lambda, and exports handler', async () => {
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

  it(`is at most ${BUNDLE_BUDGET_KB} KB, minified, without its source map`, () => {
    expect(statSync(bundlePath(fn)).size / 1024).toBeLessThanOrEqual(BUNDLE_BUDGET_KB);
  });

  it("leaves out zod's locales: zod is imported as a namespace, which esbuild can tree-shake", () => {
    const locales = bundledInputs(bundlePath(fn)).filter((input) =>
      /\/zod\/v4\/locales\/(?!en\.js$)/.test(input),
    );
    expect(locales).toEqual([]);
  });

  it('bundles none of the credential providers Lambda never reaches, and imports them only when reached', () => {
    const bundled = bundledInputs(bundlePath(fn)).filter((input) =>
      UNREACHED_CREDENTIAL_PROVIDERS.some((provider) => input.includes(`node_modules/${provider}/`)),
    );
    expect(bundled).toEqual([]);
    const imports = Object.values(metafileOf(bundlePath(fn)).outputs).flatMap((output) => output.imports);
    const external = imports.filter((i) => i.external && !isBuiltin(i.path));
    // `import()` only: a static import would fail at load wherever the SDK is not installed (the emulator's Node).
    expect(external.filter((i) => i.kind !== 'dynamic-import')).toEqual([]);
    expect(new Set(external.map((i) => i.path))).toEqual(new Set(UNREACHED_CREDENTIAL_PROVIDERS));
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
