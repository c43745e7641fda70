import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import type { CloudAssembly } from './assembly';
import type { EmulatedStack } from './cloudformation';

/** A Lambda function of the template, as the emulator runs it. */
export type FunctionDefinition = {
  logicalId: string;
  name: string;
  arn: string;
  handler: string;
  codeDir: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The template's variables, resolved. */
  environment: Record<string, string>;
  logGroup: string;
};

/** The template's AWS::Lambda::Function resources, with their code located in the assembly. */
export function functionsOf(stack: EmulatedStack, assembly: CloudAssembly): Map<string, FunctionDefinition> {
  const functions = new Map<string, FunctionDefinition>();
  for (const [logicalId, properties] of stack.resourcesOfType('AWS::Lambda::Function')) {
    const props = stack.resolve(properties) as Record<string, unknown>;
    const code = props.Code as { S3Key?: string };
    const variables = ((props.Environment as { Variables?: object } | undefined)?.Variables ?? {}) as object;
    const name = String(stack.ref(logicalId));
    functions.set(logicalId, {
      logicalId,
      name,
      arn: String(stack.getAtt(logicalId, 'Arn')),
      handler: String(props.Handler ?? 'index.handler'),
      codeDir: assembly.codeDirOf(String(code.S3Key)),
      timeoutSeconds: Number(props.Timeout ?? 3),
      memoryMb: Number(props.MemorySize ?? 128),
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
      logGroup: String(
        (props.LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup ?? `/aws/lambda/${name}`,
      ),
    });
  }
  return functions;
}

/** invoke-child.ts as plain JavaScript in a temporary directory, so children need no TypeScript loader. */
export function compileChildEntry(): { path: string; remove(): void } {
  const source = readFileSync(new URL('./invoke-child.ts', import.meta.url), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'hrp-emulate-'));
  const path = join(dir, 'invoke-child.mjs');
  writeFileSync(path, transformSync(source, { loader: 'ts', format: 'esm', target: 'node20' }).code);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
