import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import {
  type ConvergenceConfig,
  type ConvergenceDeps,
  convergeEvent,
} from '../../functions/core/engine/converge-event';
import type { StateStore } from '../../functions/core/engine/ports';
import { type CanonicalEvent, parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { loadRoleMapping } from '../../functions/core/roles/role-mapping';
import {
  CredentialedUsersApiProvider,
  type CredentialsSource,
} from '../../functions/core/truefoundry/credentials';
import type { Sandbox } from '../../sandbox';

export const testRoleMapping = loadRoleMapping({
  default: ['tenant-member'],
  rules: [
    { when: { department: 'ML Platform', title: '/manager|director|head/i' }, roles: ['tenant-admin'] },
  ],
});

export function testConfig(overrides: Partial<ConvergenceConfig> = {}): ConvergenceConfig {
  return {
    provisionMode: 'register',
    deleteAfterOffboard: false,
    roleMapping: testRoleMapping,
    leaseMs: 60_000,
    notVisibleRetryMs: 50,
    ...overrides,
  };
}

/** The engine wired to a sandbox over real HTTP, with in-memory state unless another store is given. */
export function engineFor(
  sandbox: Sandbox,
  options: { config?: Partial<ConvergenceConfig>; store?: StateStore; credentials?: CredentialsSource } = {},
) {
  const store = options.store ?? createMemoryStateStore();
  const credentials: CredentialsSource =
    options.credentials ?? (async () => ({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }));
  const deps: ConvergenceDeps = {
    store,
    api: new CredentialedUsersApiProvider(credentials, {
      timeoutMs: 2_000,
      retry: { baseDelayMs: 1, maxAttempts: 3 },
    }),
    config: testConfig(options.config),
  };
  return { store, deps, run: (event: CanonicalEvent) => convergeEvent(event, deps) };
}

let sequence = 0;

/** A canonical event through the real parser, so tests use exactly what ingest would produce. */
export function event(
  type: CanonicalEvent['type'],
  email: string,
  fields: {
    at?: string;
    roles?: string[];
    id?: string;
    employee?: Record<string, unknown>;
    resourceRoles?: unknown;
  } = {},
): CanonicalEvent {
  sequence += 1;
  const parsed = parseCanonicalEvent({
    id: fields.id ?? `evt-${sequence}`,
    type,
    occurredAt: fields.at ?? new Date(Date.UTC(2026, 10, 1) + sequence * 1000).toISOString(),
    employee: { id: `E-${email}`, email, ...fields.employee },
    ...(fields.roles ? { roles: fields.roles } : {}),
    ...(fields.resourceRoles ? { resourceRoles: fields.resourceRoles } : {}),
  });
  if (!parsed.ok) throw new Error(`test event is invalid: ${JSON.stringify(parsed.issues)}`);
  return parsed.event;
}

/** `METHOD /last/path/segment` of each call, the shape the tables compare. */
export const callsOf = (sandbox: Sandbox) =>
  sandbox
    .calls()
    .map(
      (c) =>
        `${c.method} ${c.path.replace('/api/svc/v1/users', '') || '/'}${c.status === 200 ? '' : ` → ${c.status}`}`,
    );
