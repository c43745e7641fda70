import type { EmulatedStack } from './cloudformation';

/** One method of the REST API as the template declares it. */
export type ApiRoute = {
  /** The resource path, e.g. `/events/{id}`. */
  resource: string;
  method: string;
  /** AWS_IAM routes need a signed caller; NONE routes go straight to the function. */
  iam: boolean;
  /** The logical id of the AWS_PROXY integration's function. */
  functionLogicalId: string;
  integrationTimeoutMs: number;
  /** The stage's throttling for this method: requests per second and burst. */
  throttle: { rate: number; burst: number } | undefined;
  resourceId: string;
  match(path: string): Record<string, string> | undefined;
};

export type ApiDefinition = { apiId: string; stageName: string; routes: ApiRoute[] };

/** API Gateway's integration timeout unless the method sets its own (TimeoutInMillis). */
const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;

type Props = Record<string, unknown>;

/**
 * The REST API of the template: its resources' paths, each method's authorization and Lambda proxy target,
 * and the stage's per-method throttling. Routes with fewer path parameters come first, as API Gateway
 * prefers the most specific match.
 */
export function apiOf(stack: EmulatedStack): ApiDefinition {
  const apis = stack.resourcesOfType('AWS::ApiGateway::RestApi');
  const stages = stack.resourcesOfType('AWS::ApiGateway::Stage');
  const [apiLogicalId] = apis[0] ?? [];
  const [, stage] = stages[0] ?? [];
  if (apis.length !== 1 || !apiLogicalId || stages.length !== 1 || !stage) {
    throw new Error(
      `the emulator serves one REST API with one stage; the template has ${apis.length} and ${stages.length}`,
    );
  }
  const resources = new Map(stack.resourcesOfType('AWS::ApiGateway::Resource'));
  const pathOf = (parent: unknown): string => {
    const ref = (parent as { Ref?: string }).Ref;
    const props = ref ? resources.get(ref) : undefined;
    if (!ref || !props) return ''; // Fn::GetAtt RootResourceId: the root
    return `${pathOf(props.ParentId)}/${String(props.PathPart)}`;
  };
  const settings = (stack.resolve(stage.MethodSettings ?? []) as Props[]).map((s) => ({
    path: String(s.ResourcePath ?? '/*').replaceAll('~1', '/'),
    method: String(s.HttpMethod ?? '*'),
    rate: s.ThrottlingRateLimit as number | undefined,
    burst: s.ThrottlingBurstLimit as number | undefined,
  }));
  const throttleOf = (resource: string, method: string) => {
    const specific = settings.find((s) => s.path === resource && s.method === method);
    const all = settings.find((s) => s.path === '/*' && s.method === '*');
    const rate = specific?.rate ?? all?.rate;
    const burst = specific?.burst ?? all?.burst;
    return rate === undefined || burst === undefined ? undefined : { rate, burst };
  };

  const routes: ApiRoute[] = [];
  for (const [, props] of stack.resourcesOfType('AWS::ApiGateway::Method')) {
    const integration = props.Integration as Props | undefined;
    if (integration?.Type !== 'AWS_PROXY') {
      throw new Error(`the emulator serves Lambda proxy integrations only, not ${String(integration?.Type)}`);
    }
    const functionLogicalId = functionIn(integration.Uri);
    if (!functionLogicalId)
      throw new Error(`no Lambda function found in the integration ${JSON.stringify(integration.Uri)}`);
    const resource = pathOf(props.ResourceId) || '/';
    const method = String(props.HttpMethod);
    routes.push({
      resource,
      method,
      iam: props.AuthorizationType === 'AWS_IAM',
      functionLogicalId,
      integrationTimeoutMs: Number(integration.TimeoutInMillis ?? DEFAULT_INTEGRATION_TIMEOUT_MS),
      throttle: throttleOf(resource, method),
      resourceId: String(stack.resolve(props.ResourceId)),
      match: pathMatcher(resource),
    });
  }
  routes.sort((a, b) => parameterCount(a.resource) - parameterCount(b.resource));
  return { apiId: String(stack.ref(apiLogicalId)), stageName: String(stage.StageName), routes };
}

/** The function an integration URI names: `…/functions/${Fn::GetAtt [fn, Arn]}/invocations`. */
function functionIn(uri: unknown): string | undefined {
  if (Array.isArray(uri)) return uri.map(functionIn).find((id) => id !== undefined);
  if (uri === null || typeof uri !== 'object') return undefined;
  const getAtt = (uri as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return String(getAtt[0]);
  return Object.values(uri)
    .map(functionIn)
    .find((id) => id !== undefined);
}

const parameterCount = (resource: string) => (resource.match(/\{/g) ?? []).length;

/** `/events/{id}` matches `/events/evt-1` with `{ id: 'evt-1' }`; `{proxy+}` takes the rest of the path. */
export function pathMatcher(resource: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = resource
    .split('/')
    .map((part) => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] ?? '');
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  const regex = new RegExp(`^${pattern === '' ? '/' : pattern}$`);
  return (path) => {
    const found = regex.exec(path);
    if (!found) return undefined;
    return Object.fromEntries(names.map((name, i) => [name, decodeSafely(found[i + 1] ?? '')]));
  };
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
