import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaFunction } from './invoke';
import type { Scheduler } from './schedules';

export type ControlEndpoint = { url: string; close(): Promise<void> };

/**
 * The emulator's own switches, on a port of their own (nothing on AWS answers them):
 * - `PUT /__emulate/faults {"crash": ["Worker"]}`: every invocation of the functions whose logical id
 *   contains one of these names dies before its handler runs, as after an init crash; `[]` ends it.
 * - `POST /__emulate/schedules/run`: invokes every scheduled rule's targets now, and answers their results.
 */
export async function startControlEndpoint(
  functions: ReadonlyMap<string, LambdaFunction>,
  scheduler: Scheduler,
  host = '127.0.0.1',
): Promise<ControlEndpoint> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'PUT' && req.url === '/__emulate/faults') {
        const asked = parsed(Buffer.concat(chunks)) as { crash?: unknown } | undefined;
        if (!Array.isArray(asked?.crash) || asked.crash.some((name) => typeof name !== 'string'))
          return answer(400, { error: 'expected {"crash": ["<function logical id or part of it>", …]}' });
        const names = asked.crash as string[];
        const crashing: string[] = [];
        for (const [logicalId, fn] of functions) {
          fn.crashing = names.some((name) => logicalId.includes(name));
          if (fn.crashing) crashing.push(logicalId);
        }
        return answer(200, { crashing });
      }
      if (req.method === 'POST' && req.url === '/__emulate/schedules/run') {
        void scheduler.runNow().then(
          (runs) =>
            answer(
              200,
              runs.map((run) => ({
                rule: run.rule,
                function: run.function,
                ...(run.result.ok
                  ? { payload: run.result.payload }
                  : { errorType: run.result.errorType, errorMessage: run.result.errorMessage }),
              })),
            ),
          (error: unknown) => answer(500, { error: String(error) }),
        );
        return;
      }
      answer(404, { error: 'PUT /__emulate/faults or POST /__emulate/schedules/run' });
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

function parsed(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return undefined;
  }
}
