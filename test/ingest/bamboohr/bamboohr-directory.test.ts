import { afterEach, describe, expect, it } from 'vitest';
import { BambooHrApiError, HttpBambooHrDirectory } from '../../../functions/core/ingest/bamboohr/directory';
import { mapBambooHrWebhook } from '../../../functions/core/ingest/bamboohr/webhook';
import { type FakeBambooHr, startFakeBambooHr } from '../../support/fake-bamboohr';

const apiKey = 'bhr_api_key_5e1d0c';
const companyDomain = 'acme';
const alan = {
  employeeNumber: 'E1003',
  workEmail: 'alan.turing@example.com',
  firstName: 'Alan',
  lastName: 'Turing',
  jobTitle: 'Research Engineer',
  department: 'ML Platform',
  location: 'London',
  employmentHistoryStatus: 'Full-Time',
  status: 'Active',
  terminationDate: '0000-00-00',
  payRate: '100000 USD',
};

let fake: FakeBambooHr | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(faults?: Record<string, number | 'hang'>): Promise<FakeBambooHr> {
  fake = await startFakeBambooHr({
    apiKey,
    companyDomain,
    employees: { '4023': alan },
    ...(faults ? { faults } : {}),
  });
  return fake;
}

async function errorOf(promise: Promise<unknown>): Promise<BambooHrApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BambooHrApiError))
    throw new Error(`expected a BambooHrApiError, got ${String(error)}`);
  expect(error.message).not.toContain(apiKey);
  expect(String(error.stack)).not.toContain(apiKey);
  return error;
}

describe('HttpBambooHrDirectory', () => {
  it('GETs the employee with the fields it reads, basic auth and JSON, and answers keyed by label', async () => {
    const api = await start();
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });

    expect(await directory.getEmployee('4023')).toEqual({
      'Employee #': 'E1003',
      'Work Email': 'alan.turing@example.com',
      'First Name': 'Alan',
      'Last Name': 'Turing',
      'Job Title': 'Research Engineer',
      Department: 'ML Platform',
      Location: 'London',
      'Employment Status': 'Full-Time',
      Status: 'Active',
      'Termination Date': '0000-00-00',
    });
    expect(api.requests()).toEqual([
      {
        method: 'GET',
        path: '/api/gateway.php/acme/v1/employees/4023',
        query: {
          fields:
            'employeeNumber,workEmail,firstName,lastName,jobTitle,department,location,' +
            'employmentHistoryStatus,status,hireDate,terminationDate',
        },
        authorization: `Basic ${Buffer.from(`${apiKey}:x`).toString('base64')}`,
      },
    ]);
  });

  it('keys the answer by custom labels and leaves out fields without a value', async () => {
    fake = await startFakeBambooHr({
      apiKey,
      companyDomain,
      employees: { '7': { workEmail: 'lin@example.com', jobTitle: 'Analyst' } },
    });
    const directory = new HttpBambooHrDirectory({
      companyDomain,
      apiKey,
      baseUrl: `${fake.url}/`,
      labels: { workEmail: 'Company Email', jobTitle: 'Role' },
    });
    expect(await directory.getEmployee('7')).toEqual({ 'Company Email': 'lin@example.com', Role: 'Analyst' });
  });

  it('answers undefined when BambooHR has no such employee (404)', async () => {
    const api = await start();
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    expect(await directory.getEmployee('9999')).toBeUndefined();
  });

  it('fails permanently on 401, naming the status but not the key', async () => {
    const api = await start();
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey: 'wrong-key', baseUrl: api.url });
    const error = await errorOf(directory.getEmployee('4023'));
    expect(error.status).toBe(401);
    expect(error.isTransient()).toBe(false);
    expect(error.message).toMatch(/401 Unauthorized: check the BambooHR API key \(Invalid API key\)/);
    expect(error.message).not.toContain('wrong-key');
  });

  it('fails transiently on 500 and 429', async () => {
    const api = await start({ '500': 500, '429': 429 });
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    const serverError = await errorOf(directory.getEmployee('500'));
    expect(serverError.status).toBe(500);
    expect(serverError.isTransient()).toBe(true);
    expect(serverError.message).toMatch(/500 Server Error/);
    expect((await errorOf(directory.getEmployee('429'))).isTransient()).toBe(true);
  });

  it('fails permanently on 403', async () => {
    const api = await start({ '403': 403 });
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    const error = await errorOf(directory.getEmployee('403'));
    expect([error.status, error.isTransient()]).toEqual([403, false]);
  });

  it('times out transiently when BambooHR does not answer', async () => {
    const api = await start({ '4023': 'hang' });
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url, timeoutMs: 100 });
    const error = await errorOf(directory.getEmployee('4023'));
    expect([error.failure, error.status, error.isTransient()]).toEqual(['timeout', undefined, true]);
    expect(error.message).toMatch(/no answer within 100 ms/);
  });

  it('fails transiently when BambooHR cannot be reached', async () => {
    const api = await start();
    await api.close();
    fake = undefined;
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    const error = await errorOf(directory.getEmployee('4023'));
    expect([error.failure, error.isTransient()]).toEqual(['network', true]);
  });

  it('refuses an id that is not a BambooHR id without sending anything', async () => {
    const api = await start();
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    for (const id of ['..', '../4023', '', '4023?fields=ssn']) {
      const error = await errorOf(directory.getEmployee(id));
      expect([error.failure, error.isTransient()]).toEqual(['invalid_request', false]);
    }
    expect(api.requests()).toEqual([]);
  });

  it('fails permanently when the answer is not a JSON object', async () => {
    const api = await start({ '4023': 200 });
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    const error = await errorOf(directory.getEmployee('4023'));
    expect([error.failure, error.isTransient()]).toEqual(['invalid_response', false]);
  });

  it('rejects a blank company domain or API key', () => {
    expect(() => new HttpBambooHrDirectory({ companyDomain: ' ', apiKey })).toThrow(/companyDomain/);
    expect(() => new HttpBambooHrDirectory({ companyDomain, apiKey: '' })).toThrow(/apiKey/);
  });

  it('completes a Created webhook entry for the mapping, end to end', async () => {
    const api = await start();
    const directory = new HttpBambooHrDirectory({ companyDomain, apiKey, baseUrl: api.url });
    const { events } = await mapBambooHrWebhook(
      {
        employees: [
          {
            id: '4023',
            action: 'Created',
            timestamp: '2026-11-28T16:40:10+00:00',
            changedFields: [],
            fields: {},
          },
        ],
      },
      { directory, receivedAt: '2026-11-28T16:41:00Z' },
    );
    expect(events.map((e) => [e.type, e.employee])).toEqual([
      [
        'hire',
        {
          id: 'E1003',
          email: 'alan.turing@example.com',
          name: 'Alan Turing',
          department: 'ML Platform',
          title: 'Research Engineer',
          location: 'London',
          employmentType: 'Full-Time',
        },
      ],
    ]);
  });
});
