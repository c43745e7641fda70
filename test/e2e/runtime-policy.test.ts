import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox';
import {
  api,
  newDataDir,
  type RuntimeProcess,
  removeDataDir,
  startRuntimeProcess,
  waitFor,
} from '../support/runtime-process';

/*
 * The policy through `npm start` as a child process (issue 10): first without a policy file, where the role
 * mapping's roles are the ceiling, then, on the same data directory, with POLICY_FILE set, where a token
 * cannot make an admin, a "Head of Snacks" gets only what the mapping grants, a protected account is never
 * deactivated and a foreign domain is refused.
 */

const POLICY = {
  allowedRoles: {
    tenant: ['tenant-member', 'tenant-viewer'],
    workspace: ['workspace-viewer', 'workspace-editor'],
  },
  explicitRoles: ['token', 'batch'],
  protectedAccounts: ['admin@example.com', 'svc-*@example.com'],
  allowedEmailDomains: ['example.com'],
};
// The README's kind of rule, anchored: "Head of Snacks" is no head of ML.
const MAPPING = {
  default: ['tenant-viewer'],
  rules: [
    {
      name: 'ml-leads',
      when: { department: 'ML Platform', title: '/^(engineering )?(manager|director|head of ml)$/i' },
      roles: ['tenant-member'],
    },
  ],
};

let sandbox: Sandbox;
let configDir: string;
let dataDir: string;
let runtime: RuntimeProcess | undefined;

beforeAll(async () => {
  sandbox = await startSandbox();
  configDir = mkdtempSync(join(tmpdir(), 'hrp-policy-'));
  writeFileSync(join(configDir, 'policy.json'), JSON.stringify(POLICY));
  writeFileSync(join(configDir, 'role-mapping.json'), JSON.stringify(MAPPING));
  dataDir = newDataDir();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  removeDataDir(dataDir);
  rmSync(configDir, { recursive: true, force: true });
  await sandbox?.close();
});

const tenant = () => ({
  TFY_BASE_URL: sandbox.url,
  TFY_API_KEY: sandbox.apiKey,
  TFY_RATE_LIMIT_RPS: '200',
});
const strictEnv = () => ({
  ...tenant(),
  POLICY_FILE: join(configDir, 'policy.json'),
  ROLE_MAPPING_FILE: join(configDir, 'role-mapping.json'),
});

const hire = (id: string, employee: Record<string, string>, roles?: string[]) => ({
  id,
  type: 'hire',
  occurredAt: '2026-11-02T09:00:00Z',
  employee,
  ...(roles ? { roles } : {}),
});

async function settled(target: RuntimeProcess, id: string): Promise<Record<string, unknown>> {
  return waitFor(`${id} to end`, async () => {
    const { json } = await api(target, 'GET', `/events/${id}`);
    return ['succeeded', 'superseded', 'failed'].includes(json.status as string) ? json : undefined;
  });
}

const userOf = (email: string) => sandbox.users().find((u) => u.email === email);
const writes = () => sandbox.calls().filter((c) => c.method !== 'GET').length;

describe('without a policy file', () => {
  afterAll(async () => {
    // The next runtime takes over the same data directory.
    await runtime?.stop();
    runtime = undefined;
  });

  it('says so, and the role mapping roles are the ceiling', async () => {
    runtime = await startRuntimeProcess({ ...tenant(), POLICY_FILE: '' }, dataDir);
    expect(runtime.output()).toMatch(/^ {2}policy {7}none: ceiling = roles of the role mapping$/m);

    // config/role-mapping.json grants tenant-admin and tenant-member; tenant-viewer it never grants.
    const viewer = await api(
      runtime,
      'POST',
      '/events',
      hire('np-1', { id: 'E-NP', email: 'np@example.com' }, ['tenant-viewer']),
    );
    expect(viewer.status).toBe(422);
    expect(viewer.json.message).toContain(
      'tenant-viewer is not an allowed tenant role (allowed: tenant-member, tenant-admin; no policy file',
    );
    expect((await api(runtime, 'GET', '/events/np-1')).status).toBe(404);

    // A service account the pipeline provisions now, before any policy protects it.
    const svc = await api(
      runtime,
      'POST',
      '/events',
      hire('svc-1', { id: 'E-SVC', email: 'svc-deploy@example.com' }, ['tenant-member']),
    );
    expect(svc.status).toBe(202);
    expect(await settled(runtime, 'svc-1')).toMatchObject({ status: 'succeeded' });
  }, 60_000);
});

describe('with POLICY_FILE', () => {
  it('refuses to start when the role mapping grants above the ceiling, naming the rule', async () => {
    // config/role-mapping.json makes ML Platform leads tenant-admin; this policy allows no such role.
    const scratch = newDataDir();
    await expect(
      startRuntimeProcess({ ...tenant(), POLICY_FILE: join(configDir, 'policy.json') }, scratch),
    ).rejects.toThrow(
      /Cannot start: .*rules\.0\.roles: rule "ml-platform-leads" grants tenant-admin \(tenant\), which allowedRoles\.tenant does not allow/,
    );
    removeDataDir(scratch);
  }, 60_000);

  it('starts on the same data and names the policy in its banner', async () => {
    runtime = await startRuntimeProcess(strictEnv(), dataDir);
    expect(runtime.output()).toMatch(/^ {2}policy {7}\S*policy\.json$/m);
  }, 60_000);

  it('a token event asking for tenant-admin gets 422 and nothing is recorded', async () => {
    const target = runtime as RuntimeProcess;
    const before = writes();
    const answer = await api(
      target,
      'POST',
      '/events',
      hire('adm-1', { id: 'E-ADM', email: 'mallory@example.com' }, ['tenant-admin']),
    );
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ error: 'refused_by_policy' });
    expect(answer.json.message).toContain('event adm-1: roles: tenant-admin is not an allowed tenant role');
    expect((await api(target, 'GET', '/events/adm-1')).status).toBe(404);
    expect(writes()).toBe(before);
    expect(userOf('mallory@example.com')).toBeUndefined();
  });

  it('a "Head of Snacks" gets only the safe roles the mapping grants; a head of ML the rule', async () => {
    const target = runtime as RuntimeProcess;
    for (const [id, email, title] of [
      ['snk-1', 'snacks@example.com', 'Head of Snacks'],
      ['hml-1', 'ml.head@example.com', 'Head of ML'],
    ] as const) {
      const answer = await api(
        target,
        'POST',
        '/events',
        hire(id, { id: `E-${id}`, email, department: 'ML Platform', title }),
      );
      expect(answer.status).toBe(202);
    }
    expect(await settled(target, 'snk-1')).toMatchObject({ status: 'succeeded' });
    expect(await settled(target, 'hml-1')).toMatchObject({ status: 'succeeded' });
    expect(userOf('snacks@example.com')).toMatchObject({ active: true, roles: ['tenant-viewer'] });
    expect(userOf('ml.head@example.com')).toMatchObject({ active: true, roles: ['tenant-member'] });
  }, 30_000);

  it('an offboard of a protected account: refused at ingest, and failed with no deactivation at the worker', async () => {
    const target = runtime as RuntimeProcess;
    const direct = await api(target, 'POST', '/events', {
      id: 'svc-2',
      type: 'offboard',
      occurredAt: '2026-11-03T09:00:00Z',
      employee: { id: 'E-SVC', email: 'svc-deploy@example.com' },
    });
    expect(direct.status).toBe(422);
    expect(direct.json.message).toContain(
      'svc-deploy@example.com is a protected account (protectedAccounts: svc-*@example.com)',
    );

    // Under another address ingest cannot tell; the worker finds the protected account the person holds.
    const before = writes();
    const offboard = await api(target, 'POST', '/events', {
      id: 'svc-3',
      type: 'offboard',
      occurredAt: '2026-11-03T09:00:00Z',
      employee: { id: 'E-SVC', email: 'deploy-bot@example.com' },
    });
    expect(offboard.status).toBe(202);
    const failed = await settled(target, 'svc-3');
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.error).toContain('svc-deploy@example.com is a protected account');
    expect(writes()).toBe(before);
    expect(userOf('svc-deploy@example.com')).toMatchObject({ active: true });
  }, 30_000);

  it('an email outside the allowed domains gets 422 naming the domain, and nothing is recorded', async () => {
    const target = runtime as RuntimeProcess;
    const answer = await api(
      target,
      'POST',
      '/events',
      hire('dom-1', { id: 'E-DOM', email: 'eve@evil.example.org' }),
    );
    expect(answer.status).toBe(422);
    expect(answer.json.message).toContain(
      'the domain evil.example.org is not allowed (allowedEmailDomains: example.com)',
    );
    expect((await api(target, 'GET', '/events/dom-1')).status).toBe(404);
  });
});
