import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** The options each handler gives Powertools Tracer's middy middleware, recorded around the real one. */
const traced = vi.hoisted(() => [] as { captureResponse?: boolean }[]);
vi.mock('@aws-lambda-powertools/tracer/middleware', async (importOriginal) => {
  const real = await importOriginal<typeof import('@aws-lambda-powertools/tracer/middleware')>();
  return {
    ...real,
    captureLambdaHandler: (...args: Parameters<typeof real.captureLambdaHandler>) => {
      traced.push(args[1] ?? {});
      return real.captureLambdaHandler(...args);
    },
  };
});

const saved = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    TABLE_NAME: 'state',
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo',
    DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq.fifo',
    INGEST_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-AbCdEf',
    TFY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tfy-AbCdEf',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});
afterAll(() => {
  process.env = saved;
});

describe('traces carry no response bodies', () => {
  it('the ingest λ (and the operator λ, the same code) does not capture responses: GET /events lists emails', async () => {
    traced.length = 0;
    await import('../../functions/ingest');
    expect(traced).toEqual([expect.objectContaining({ captureResponse: false })]);
  });

  it('the worker λ does not capture its responses either', async () => {
    traced.length = 0;
    await import('../../functions/worker');
    expect(traced).toEqual([expect.objectContaining({ captureResponse: false })]);
  });
});
