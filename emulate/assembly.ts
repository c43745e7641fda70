import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../lib/project-paths';
import type { Template } from './cloudformation';

/** What the stack's build reads: a change to any of these makes a new assembly. */
const INPUT_DIRS = ['functions', 'lib', 'config'];
const INPUT_FILES = ['package-lock.json', 'tsconfig.json', 'cdk.json', 'emulate/assembly.ts'];
const CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'hr-provisioning-emulate');
const KEEP_ASSEMBLIES = 4;
/** An assembly another emulator may still be running from is never pruned: only ones unused this long. */
const PRUNE_AFTER_MS = 60 * 60_000;

/** A synthesized cloud assembly: the stack's template and where each Lambda code asset was bundled to. */
export type CloudAssembly = {
  dir: string;
  stackName: string;
  template: Template;
  /** The directory of a function's code, from its `Code.S3Key` (the way `cdk deploy` finds the asset). */
  codeDirOf(s3Key: string): string;
  /** True when the assembly of an earlier start was reused (its inputs had not changed). */
  reused: boolean;
  synthMs: number;
};

export type Context = Record<string, unknown>;

/**
 * The CDK context of the emulated stack: cdk.json's, then the runtime's environment variables that are
 * settings of the stack (TFY_RATE_LIMIT_RPS → tfyRateLimitRps, …), then EMULATE_CONTEXT (JSON) over both.
 */
export function emulateContext(env: NodeJS.ProcessEnv): Context {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Context };
  const asIs = (value: string) => value;
  // npm start reads these paths from the working directory; context paths are from the project root.
  const path = (value: string) => resolve(value);
  const flag = (value: string) => String(/^(1|true|yes|on)$/i.test(value));
  const settings: [string, string, (value: string) => string][] = [
    ['TFY_RATE_LIMIT_RPS', 'tfyRateLimitRps', asIs],
    ['TFY_PROVISION_MODE', 'tfyProvisionMode', asIs],
    ['TFY_ACCEPT_INVITE_URL', 'tfyAcceptInviteUrl', asIs],
    ['TFY_TENANT_NAME', 'tfyTenantName', asIs],
    ['TFY_DELETE_AFTER_OFFBOARD', 'tfyDeleteAfterOffboard', flag],
    ['MAX_ATTEMPTS', 'maxAttempts', asIs],
    ['MAX_RECEIVE_COUNT', 'maxReceiveCount', asIs],
    ['RETENTION_DAYS', 'retentionDays', asIs],
    ['ROLE_MAPPING_FILE', 'roleMappingFile', path],
    ['POLICY_FILE', 'policyFile', path],
    ['LOG_EMAILS', 'logEmails', flag],
    ['BAMBOOHR_COMPANY_DOMAIN', 'bamboohrCompanyDomain', asIs],
    ['BAMBOOHR_FIELD_LABELS', 'bamboohrFieldLabels', asIs],
    ['BAMBOOHR_TIME_ZONE', 'bamboohrTimeZone', asIs],
  ];
  const fromEnv: Context = {};
  for (const [variable, key, convert] of settings) {
    const value = env[variable]?.trim();
    if (value) fromEnv[key] = convert(value);
  }
  let extra: unknown = {};
  if (env.EMULATE_CONTEXT?.trim()) {
    try {
      extra = JSON.parse(env.EMULATE_CONTEXT);
    } catch (error) {
      throw new Error(`EMULATE_CONTEXT is not JSON: ${(error as Error).message}`);
    }
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
      throw new Error(
        'EMULATE_CONTEXT must be a JSON object of CDK context keys, e.g. {"workerTimeoutSeconds":10}',
      );
    }
  }
  return { ...cdkJson.context, ...fromEnv, ...(extra as Context) };
}

/**
 * The stack synthesized as `cdk synth` would (without the cdk-nag packs, which only check the template),
 * into a cache keyed by everything the build reads: a start whose sources, lock file and context are those
 * of an earlier start reuses its assembly instead of bundling again (`EMULATE_SYNTH=always` bundles anyway).
 */
export async function synthesize(
  context: Context,
  options: { always?: boolean } = {},
): Promise<CloudAssembly> {
  const started = performance.now();
  mkdirSync(CACHE_DIR, { recursive: true });
  const timed = (dir: string, reused: boolean): CloudAssembly => ({
    ...readAssembly(dir),
    reused,
    synthMs: Math.round(performance.now() - started),
  });
  if (options.always) {
    // Beside the cache, never over it: another emulator may be running from the cached copy.
    const fresh = join(CACHE_DIR, `.fresh-${randomBytes(6).toString('hex')}`);
    await synthInto(context, fresh);
    return timed(fresh, false);
  }
  const key = inputKey(context);
  const dir = join(CACHE_DIR, key);
  const manifest = join(dir, 'manifest.json');
  let reused = existsSync(manifest);
  if (!reused) {
    // Emulators starting together with the same inputs (test files in parallel) bundle once between them.
    const release = await lockOrWait(join(CACHE_DIR, `.lock-${key}`), manifest);
    try {
      reused = existsSync(manifest);
      if (!reused) {
        const outdir = join(CACHE_DIR, `.building-${randomBytes(6).toString('hex')}`);
        try {
          await synthInto(context, outdir);
        } catch (error) {
          rmSync(outdir, { recursive: true, force: true });
          throw error;
        }
        rmSync(dir, { recursive: true, force: true });
        renameSync(outdir, dir);
      }
    } finally {
      release();
    }
    pruneCache(key);
  }
  const now = new Date();
  utimesSync(dir, now, now);
  return timed(dir, reused);
}

async function synthInto(context: Context, outdir: string): Promise<void> {
  // Loaded only to synthesize: a start that reuses an assembly does without the CDK (seconds of loading).
  const { App } = await import('aws-cdk-lib');
  const { readConfig } = await import('../lib/config');
  const { HrProvisioningStack, stackNameOf } = await import('../lib/hr-provisioning-stack');
  const app = new App({ context, outdir });
  const config = readConfig(app.node);
  new HrProvisioningStack(app, stackNameOf(config.stage), { config });
  app.synth();
}

/**
 * Takes the lock of one cache entry (a file holding this process's id), or waits until its holder has made
 * the entry (`done` exists) or died. Returns the release of the lock it took, or a no-op.
 */
async function lockOrWait(lock: string, done: string): Promise<() => void> {
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch {
      if (existsSync(done)) return () => {};
      const holder = Number(readFileSync(lock, 'utf8') || 'NaN');
      if (!Number.isInteger(holder) || !isAlive(holder)) rmSync(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Manifest = {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string; file?: string } }>;
};
type AssetManifest = {
  files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
};

function readAssembly(dir: string): Omit<CloudAssembly, 'reused' | 'synthMs'> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const artifacts = Object.entries(manifest.artifacts);
  const stacks = artifacts.filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  const [stackName, stack] = stacks[0] ?? [];
  if (stacks.length !== 1 || !stackName || !stack?.properties?.templateFile) {
    throw new Error(`expected one stack in the assembly ${dir}, found ${stacks.length}`);
  }
  const template = JSON.parse(readFileSync(join(dir, stack.properties.templateFile), 'utf8')) as Template;
  const codeDirs = new Map<string, string>();
  for (const [, artifact] of artifacts.filter(([, a]) => a.type === 'cdk:asset-manifest')) {
    const assets = JSON.parse(
      readFileSync(join(dir, artifact.properties?.file ?? ''), 'utf8'),
    ) as AssetManifest;
    for (const asset of Object.values(assets.files ?? {})) {
      for (const destination of Object.values(asset.destinations)) {
        codeDirs.set(destination.objectKey, join(dir, asset.source.path));
      }
    }
  }
  return {
    dir,
    stackName,
    template,
    codeDirOf: (s3Key) => {
      const codeDir = codeDirs.get(s3Key);
      if (!codeDir) throw new Error(`the assembly has no asset for the code object ${s3Key}`);
      return codeDir;
    },
  };
}

/** A digest of the context, the files it names (the role mapping, …) and every input file of the build. */
function inputKey(context: Context): string {
  const hash = createHash('sha256').update(JSON.stringify(context)).update(process.version);
  const files = INPUT_FILES.map((file) => join(PROJECT_ROOT, file));
  for (const dir of INPUT_DIRS) files.push(...filesUnder(join(PROJECT_ROOT, dir)));
  for (const value of Object.values(context)) {
    if (typeof value !== 'string' || value.length > 1024) continue;
    const path = isAbsolute(value) ? value : resolve(PROJECT_ROOT, value);
    if (existsSync(path) && statSync(path).isFile()) files.push(path);
  }
  for (const file of files.sort()) {
    hash.update(file).update('\0');
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 24);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Keeps the newest few assemblies (a few MB each), the one in use and any used within the hour. */
function pruneCache(current: string): void {
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  const entries = readdirSync(CACHE_DIR)
    .filter((name) => name !== current)
    .map((name) => ({ name, at: modifiedAt(join(CACHE_DIR, name)) }))
    .sort((a, b) => b.at - a.at);
  const stale = [
    ...entries.filter((entry) => !entry.name.startsWith('.')).slice(KEEP_ASSEMBLIES - 1),
    ...entries.filter((entry) => /^\.(building|fresh)-/.test(entry.name)),
  ];
  for (const entry of stale.filter((e) => e.at < cutoff)) {
    rmSync(join(CACHE_DIR, entry.name), { recursive: true, force: true });
  }
}

/** When an entry was last used; another emulator may remove it meanwhile (then: now, so it is left alone). */
function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}
