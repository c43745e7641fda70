import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import type { IngestRequest, IngestResponse } from '../core/ingest/http';

export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2WithIAMAuthorizer;

const isV2 = (event: ApiGatewayEvent): event is APIGatewayProxyEventV2WithIAMAuthorizer =>
  'version' in event && event.version === '2.0';

/** A REST API (v1) or HTTP API (v2) proxy event as the request shape the ingest app takes. */
export function toIngestRequest(event: ApiGatewayEvent): IngestRequest {
  const body = event.body
    ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  if (isV2(event)) {
    const stage = event.requestContext.stage;
    // rawPath carries the stage unless it is $default.
    const path =
      stage && stage !== '$default' && event.rawPath.startsWith(`/${stage}/`)
        ? event.rawPath.slice(stage.length + 1)
        : event.rawPath;
    return {
      method: event.requestContext.http.method,
      path,
      query: { ...event.queryStringParameters },
      headers: lowerCased(event.headers),
      body,
      gatewayAuthorized: Boolean(event.requestContext.authorizer?.iam?.userArn),
    };
  }
  return {
    method: event.httpMethod,
    path: event.path,
    query: { ...event.queryStringParameters },
    headers: lowerCased(event.headers),
    body,
    // API Gateway checks the caller's SigV4 signature only on routes with IAM authorisation. The ingest app
    // honours this flag only on its `operator` routes, which are exactly those (authenticate.ts, RouteAuth):
    // on any other route an identity on the request proves nothing, and its signature or token is required.
    gatewayAuthorized: Boolean(event.requestContext.identity?.userArn),
  };
}

export function toProxyResult(
  response: IngestResponse,
): APIGatewayProxyResult & APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
}

function lowerCased(
  headers: Record<string, string | undefined> | null | undefined,
): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) result[name.toLowerCase()] = value;
  return result;
}
