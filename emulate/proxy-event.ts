import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ApiRoute } from './api-routes';

/** The identity API Gateway would put on an IAM route for the caller who signed; here, who sent the token. */
const OPERATOR_USER = 'emulate-operator';

export type EventParts = {
  url: URL;
  rawPath: string;
  route: ApiRoute;
  params: Record<string, string>;
  body: Buffer;
  requestId: string;
  identity: 'operator' | undefined;
  api: { apiId: string; stageName: string };
  account: string;
};

/** The REST API (v1) Lambda proxy event API Gateway hands a route's function for one request. */
export function proxyEvent(req: IncomingMessage, parts: EventParts): APIGatewayProxyEvent {
  const { url, rawPath, route, params, body, requestId, identity, api, account } = parts;
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), req.rawHeaders[i + 1] ?? ''];
  }
  multiValueHeaders['X-Forwarded-For'] = [sourceIp];
  multiValueHeaders['X-Forwarded-Proto'] = ['http'];
  multiValueHeaders['X-Forwarded-Port'] = [String(req.socket.localPort ?? '')];
  const headers = Object.fromEntries(
    Object.entries(multiValueHeaders).map(([n, v]) => [n, v[v.length - 1] ?? '']),
  );
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    multiValueQuery[name] = [...(multiValueQuery[name] ?? []), value];
  }
  const query = Object.fromEntries(
    Object.entries(multiValueQuery).map(([n, v]) => [n, v[v.length - 1] ?? '']),
  );
  const now = new Date();
  const hasQuery = Object.keys(query).length > 0;
  const operatorArn = `arn:aws:iam::${account}:user/${OPERATOR_USER}`;
  return {
    resource: route.resource,
    path: rawPath,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: Object.keys(params).length > 0 ? params : null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: account,
      apiId: api.apiId,
      authorizer: undefined,
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: (req.headers.host ?? 'localhost').split('.')[0] ?? '',
      extendedRequestId: randomBytes(6).toString('base64url'),
      httpMethod: route.method,
      path: `/${api.stageName}${rawPath}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: apiGatewayTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: route.resourceId,
      resourcePath: route.resource,
      stage: api.stageName,
      identity: {
        accessKey: identity ? 'ASIAEMULATEOPERATOR0' : null,
        accountId: identity ? account : null,
        apiKey: null,
        apiKeyId: null,
        caller: identity ? `AIDAEMULATE:${OPERATOR_USER}` : null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: identity ? `AIDAEMULATE:${OPERATOR_USER}` : null,
        userAgent: req.headers['user-agent'] ?? null,
        // Set by API Gateway on IAM routes only, after checking the signature; never taken from the caller.
        userArn: identity ? operatorArn : null,
      },
    },
  };
}

/** `09/Apr/2015:12:34:56 +0000`, the format of requestContext.requestTime. */
function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
