import { type BambooHrField, type BambooHrFieldLabels, resolveBambooHrFieldLabels } from './fields';

/**
 * Reads one employee from BambooHR. Global webhooks post no fields with Created and Deleted entries,
 * so the adapter asks the directory for them. Fields are keyed by label, as in webhook payloads.
 */
export interface BambooHrDirectory {
  /** The employee's fields, or undefined when BambooHR has no such employee (404). */
  getEmployee(id: string): Promise<Record<string, string> | undefined>;
}

export type HttpBambooHrDirectoryOptions = {
  /** The company's subdomain: `acme` for acme.bamboohr.com. */
  companyDomain: string;
  apiKey: string;
  /** Default https://api.bamboohr.com. */
  baseUrl?: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** The labels the answer is keyed by; the same overrides as the webhook mapping. */
  labels?: Partial<BambooHrFieldLabels>;
};

/** Why a BambooHR API call failed; `http` carries a status, the others never got a usable answer. */
export type BambooHrFailure = 'invalid_request' | 'http' | 'network' | 'timeout' | 'invalid_response';

/**
 * A failed call to BambooHR's REST API. The message names the call and the status, never the API key:
 * it ends up in logs, in skip reasons and in the dead-letter queue.
 */
export class BambooHrApiError extends Error {
  constructor(
    message: string,
    readonly failure: BambooHrFailure,
    /** HTTP status; undefined when no answer came. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BambooHrApiError';
  }

  /** True when the same call may succeed later: rate limits, server errors, network failures, timeouts. */
  isTransient(): boolean {
    if (this.failure === 'network' || this.failure === 'timeout') return true;
    return this.status !== undefined && (this.status === 429 || this.status >= 500);
  }
}

/**
 * BambooHR's API names for the fields the adapter reads. The REST API speaks these fixed names while
 * webhooks speak the (renameable) labels, so lookups translate one into the other.
 */
export const BAMBOOHR_API_FIELD_NAMES: Readonly<Record<BambooHrField, string>> = Object.freeze({
  employeeNumber: 'employeeNumber',
  workEmail: 'workEmail',
  firstName: 'firstName',
  lastName: 'lastName',
  jobTitle: 'jobTitle',
  department: 'department',
  location: 'location',
  employmentType: 'employmentHistoryStatus',
  status: 'status',
  hireDate: 'hireDate',
  terminationDate: 'terminationDate',
});

/** An API answer re-keyed by label, keeping only the fields the adapter reads and that have a value. */
export function labelApiFields(
  apiFields: Record<string, unknown>,
  labels: BambooHrFieldLabels,
): Record<string, string> {
  const labelled: Record<string, string> = {};
  for (const [field, apiName] of Object.entries(BAMBOOHR_API_FIELD_NAMES) as [BambooHrField, string][]) {
    const value = apiFields[apiName];
    // BambooHR answers null for a requested field that has no value.
    if (typeof value === 'string') labelled[labels[field]] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') labelled[labels[field]] = String(value);
  }
  return labelled;
}

const DEFAULT_BASE_URL = 'https://api.bamboohr.com';
const DEFAULT_TIMEOUT_MS = 10_000;
const EMPLOYEE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const STATUS_HINTS: Record<number, string> = {
  401: 'Unauthorized: check the BambooHR API key',
  403: "Forbidden: the API key's user may not read these employee fields",
  429: 'Too Many Requests',
};

/** `BambooHrDirectory` over BambooHR's REST API (`GET /v1/employees/{id}`). */
export class HttpBambooHrDirectory implements BambooHrDirectory {
  readonly #baseUrl: string;
  readonly #companyDomain: string;
  readonly #authorization: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #labels: BambooHrFieldLabels;

  constructor(options: HttpBambooHrDirectoryOptions) {
    if (options.companyDomain.trim() === '') throw new Error('BambooHR companyDomain must not be blank');
    if (options.apiKey === '') throw new Error('BambooHR apiKey must not be blank');
    this.#baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.#companyDomain = options.companyDomain;
    this.#apiKey = options.apiKey;
    // BambooHR takes the API key as the basic-auth user name; the password is ignored.
    this.#authorization = `Basic ${Buffer.from(`${options.apiKey}:x`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#labels = resolveBambooHrFieldLabels(options.labels);
  }

  async getEmployee(id: string): Promise<Record<string, string> | undefined> {
    const what = `BambooHR GET employee ${JSON.stringify(id)}`;
    // BambooHR ids are numbers; anything path-like (`..`, `/`) must not reach the URL.
    if (!EMPLOYEE_ID.test(id)) {
      throw new BambooHrApiError(
        `${what} not sent: not a BambooHR employee id`,
        'invalid_request',
        undefined,
      );
    }
    const fields = Object.values(BAMBOOHR_API_FIELD_NAMES).map(encodeURIComponent).join(',');
    const url =
      `${this.#baseUrl}/api/gateway.php/${encodeURIComponent(this.#companyDomain)}` +
      `/v1/employees/${encodeURIComponent(id)}?fields=${fields}`;

    let response: Response;
    let body: string;
    try {
      response = await fetch(url, {
        method: 'GET',
        headers: { Authorization: this.#authorization, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new BambooHrApiError(
          `${what} failed: no answer within ${this.#timeoutMs} ms`,
          'timeout',
          undefined,
        );
      }
      const reason = this.#redact(describeNetworkError(error));
      throw new BambooHrApiError(`${what} failed: network error: ${reason}`, 'network', undefined, {
        cause: error,
      });
    }

    if (response.status === 404) return undefined;
    if (!response.ok) {
      const summary =
        STATUS_HINTS[response.status] ?? (response.status >= 500 ? 'Server Error' : 'Unexpected Status');
      // BambooHR explains most errors in this header rather than in the body.
      const detail = response.headers.get('x-bamboohr-error-message');
      const suffix = detail ? ` (${this.#redact(detail).slice(0, 200)})` : '';
      throw new BambooHrApiError(
        `${what} failed: ${response.status} ${summary}${suffix}`,
        'http',
        response.status,
      );
    }

    const employee = parseJsonObject(body);
    if (employee === undefined) {
      throw new BambooHrApiError(
        `${what} failed: the answer is not a JSON object`,
        'invalid_response',
        response.status,
      );
    }
    return labelApiFields(employee, this.#labels);
  }

  /** Removes the API key from text that came from elsewhere, in case a proxy or server echoed it. */
  #redact(text: string): string {
    return this.#apiKey === '' ? text : text.split(this.#apiKey).join('[redacted]');
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// fetch wraps the socket error in `cause`; its own message is only "fetch failed".
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error.cause instanceof Error ? error.cause : undefined;
  const code = inner && 'code' in inner && typeof inner.code === 'string' ? ` (${inner.code})` : '';
  return inner ? `${inner.message}${code}` : error.message;
}
