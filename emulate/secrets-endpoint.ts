import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One secret as Secrets Manager holds it: found by its ARN, its name, or the ARN without the suffix. */
export type EmulatedSecret = { arn: string; value: string };

export type SecretsEndpoint = { url: string; close(): Promise<void> };

/** `PUT <endpoint>/__emulate/faults {"latencyMs": n}`: every GetSecretValue answer waits n ms from then on. */
export const SECRETS_FAULTS_PATH = '/__emulate/faults';

// Hand-written because no Secrets Manager emulator runs here (no Docker, no moto): the functions call one
// operation, GetSecretValue, over the AWS JSON 1.1 protocol, which is all this speaks.
export async function startSecretsEndpoint(
  secrets: readonly EmulatedSecret[],
  host = '127.0.0.1',
): Promise<SecretsEndpoint> {
  const created = Math.floor(Date.now() / 1000);
  // A slow Secrets Manager, to try what a dependency the functions cannot abort does to them (a timeout).
  let latencyMs = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      const fault = (type: string, message: string) => answer(400, { __type: type, message });
      if (req.method === 'PUT' && req.url === SECRETS_FAULTS_PATH) {
        const asked = Number(
          (safeJson(Buffer.concat(chunks)) as { latencyMs?: unknown } | undefined)?.latencyMs ?? 0,
        );
        latencyMs = Number.isFinite(asked) && asked > 0 ? asked : 0;
        return answer(200, { latencyMs });
      }
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return fault('UnknownOperationException', `the emulator answers GetSecretValue only`);
      }
      const request = safeJson(Buffer.concat(chunks)) as { SecretId?: unknown } | undefined;
      if (request === undefined) return fault('SerializationException', 'the body is not JSON');
      const secretId = request.SecretId;
      const secret = secrets.find((s) => matches(s.arn, String(secretId)));
      if (typeof secretId !== 'string' || !secret) {
        return fault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      const body = {
        ARN: secret.arn,
        Name: nameOf(secret.arn),
        SecretString: secret.value,
        VersionId: createHash('sha256').update(secret.value).digest('hex').slice(0, 32),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: created,
      };
      setTimeout(() => answer(200, body), latencyMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf` → `<name>`. */
function nameOf(arn: string): string {
  return arn.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') ?? arn;
}

function matches(arn: string, secretId: string): boolean {
  return secretId === arn || secretId === nameOf(arn) || arn.startsWith(`${secretId}-`);
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return undefined;
  }
}
