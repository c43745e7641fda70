import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import { handleEventMessage } from '../../functions/core/engine/handle-event-message';
import type { UsersApi, UsersApiProvider } from '../../functions/core/engine/ports';
import { emailDigest, powertoolsLog, redactEmails } from '../../functions/core/privacy/redact';
import { errorForStatus } from '../../functions/core/truefoundry/errors';
import { event, testConfig } from '../support/engine-harness';

/** Every line the Powertools Logger writes, parsed. */
let lines: string[];
beforeEach(() => {
  lines = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const logger = () => new Logger({ serviceName: 'hr-provisioning-test', logLevel: 'DEBUG' });

/** TrueFoundry as a stub: nobody exists yet, and any create is refused with 422, echoing the address. */
function refusingTrueFoundry(): UsersApiProvider {
  const refuse = (path: string) => async () => {
    throw errorForStatus(
      422,
      { method: 'POST', path },
      { message: 'user ada@example.com cannot be registered: domain not allowed' },
      undefined,
    );
  };
  const api: UsersApi = {
    findByEmail: async () => undefined,
    list: async () => ({ data: [], pagination: { total: 0 } }),
    preRegister: refuse('api/svc/v1/users/register'),
    invite: refuse('api/svc/v1/users/invite'),
    updateRoles: refuse('api/svc/v1/users/roles'),
    activate: refuse('api/svc/v1/users/activate'),
    deactivate: refuse('api/svc/v1/users/deactivate'),
    delete: refuse('api/svc/v1/users/x'),
  };
  return { get: async () => api, refresh: async () => api };
}

/** Runs one failing event through the engine with the log under test; returns its verdict's reason. */
async function failOneEvent(log: ReturnType<typeof powertoolsLog>, setup: 'conflict' | 'tf422') {
  const store = createMemoryStateStore();
  if (setup === 'conflict') {
    // ada@ is the current account of employee E9, who is active.
    await store.people.link('id:E9', 'ada@example.com', undefined);
    await store.events.accept(event('hire', 'ada@example.com', { id: 'evt-e9' }), {
      source: 'events',
      at: '2026-11-01T00:00:00.000Z',
      sequence: 1,
    });
    await store.recordSuccess(
      'evt-e9',
      { at: '2026-11-01T00:00:00.000Z' },
      {
        personKey: 'id:E9',
        mark: { at: '2026-11-01T00:00:00.000Z', sequence: 1, eventId: 'evt-e9' },
        status: 'active',
        current: 'ada@example.com',
      },
    );
  }
  const hire = event('hire', 'ada@example.com', {
    id: 'evt-ada',
    employee: { id: 'E1', name: 'Ada Lovelace' },
  });
  const verdict = await handleEventMessage(
    { messageId: 'm-1', body: JSON.stringify(hire), receiveCount: 1 },
    { store, api: refusingTrueFoundry(), config: testConfig(), log, maxAttempts: 5 },
  );
  if (verdict.action !== 'dead-letter')
    throw new Error(`expected a permanent failure, got ${verdict.action}`);
  return verdict.reason;
}

describe('log lines name events and employees, not emails', () => {
  it('redacts the engine’s reason when an email belongs to someone else', async () => {
    const reason = await failOneEvent(powertoolsLog(logger()), 'conflict');
    // The reason itself, for the operator's GET /events/{id}, still names the address.
    expect(reason).toContain('ada@example.com belongs to employee E9');

    const failure = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'event failed');
    expect(failure).toMatchObject({ level: 'ERROR', eventId: 'evt-ada' });
    expect(failure.reason).toContain(`${emailDigest('ada@example.com')} belongs to employee E9`);
    expect(lines.join('')).not.toContain('ada@example.com');
  });

  it('redacts what TrueFoundry echoes back in a 422', async () => {
    const reason = await failOneEvent(powertoolsLog(logger()), 'tf422');
    expect(reason).toContain('user ada@example.com cannot be registered');

    const failure = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'event failed');
    expect(failure.reason).toContain(`user ${emailDigest('ada@example.com')} cannot be registered`);
    expect(lines.join('')).not.toMatch(/ada@example\.com|Lovelace/);
  });

  it('writes emails as they are with LOG_EMAILS=true, for debugging', async () => {
    vi.stubEnv('LOG_EMAILS', 'true');
    await failOneEvent(powertoolsLog(logger()), 'conflict');
    expect(lines.join('')).toContain('ada@example.com belongs to employee E9');
  });

  it('takes the option over the environment: the local runtime passes its config', async () => {
    vi.stubEnv('LOG_EMAILS', 'true');
    await failOneEvent(powertoolsLog(logger(), { logEmails: false }), 'tf422');
    expect(lines.join('')).not.toContain('ada@example.com');
  });

  it('redacts messages, nested attributes and errors alike, in every way an address is written', () => {
    const log = powertoolsLog(logger());
    log.info('looked up Bob.Smith@Example.org', {
      path: '/api/svc/v1/users?query=bob.smith%40example.org',
      error: new Error('TrueFoundry said: bob.smith@example.org is unknown'),
      steps: [{ email: 'bob.smith@example.org', key: 'create' }],
      employeeKey: 'email:bob.smith@example.org',
      count: 3,
    });
    const [line] = lines.map((l) => JSON.parse(l));
    const digest = emailDigest('bob.smith@example.org');
    expect(line).toMatchObject({
      message: `looked up ${digest}`,
      path: `/api/svc/v1/users?query=${digest}`,
      steps: [{ email: digest, key: 'create' }],
      employeeKey: `email:${digest}`,
      count: 3,
    });
    expect(JSON.stringify(line.error)).toContain(`TrueFoundry said: ${digest} is unknown`);
    expect(lines.join('')).not.toMatch(/bob\.smith/i);
  });

  it('gives one address one digest, whatever its case, and leaves other text alone', () => {
    expect(redactEmails('Ada@Example.COM and ada@example.com')).toBe(
      `${emailDigest('ada@example.com')} and ${emailDigest('ada@example.com')}`,
    );
    expect(redactEmails('evt-1 for employee E1 at 09:00 (a @ b)')).toBe(
      'evt-1 for employee E1 at 09:00 (a @ b)',
    );
  });
});
