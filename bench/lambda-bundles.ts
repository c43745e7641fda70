import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Metafile } from 'esbuild';
import { readConfig } from '../lib/config';
import { HrProvisioningStack, stackNameOf } from '../lib/hr-provisioning-stack';
import { PROJECT_ROOT } from '../lib/project-paths';
import { BUNDLE_METAFILE_CONTEXT, LAMBDA_BUNDLING, ServiceFunction } from '../lib/service-function';

/*
 * The Lambda bundles as `cdk synth` makes them, with esbuild's metafile beside each (what every input weighs
 * in the output), and variants of them built with the stack's own esbuild options (LAMBDA_BUNDLING) to compare.
 */

/** One code asset: the bundle the named functions run (the ingest and operator λ share theirs). */
export type LambdaBundle = {
  functions: string[];
  file: string;
  bytes: number;
  mapBytes: number;
  metafile: Metafile;
};

/** Synthesizes the stack into `outdir` (cdk.json's context, no cdk-nag) and returns its distinct bundles. */
export function synthBundles(outdir: string): LambdaBundle[] {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, [BUNDLE_METAFILE_CONTEXT]: true }, outdir });
  const config = readConfig(app.node);
  const stack = new HrProvisioningStack(app, stackNameOf(config.stage), { config });
  app.synth();
  // Every function of the stack, by its construct id (Ingest → ingest), however many there come to be.
  const functions = stack.node.findAll().filter((c): c is ServiceFunction => c instanceof ServiceFunction);
  const byFile = new Map<string, string[]>();
  for (const fn of functions) {
    const file = bundleFileOf(app, fn);
    byFile.set(file, [...(byFile.get(file) ?? []), fn.node.id.toLowerCase()]);
  }
  return [...byFile].map(([file, functions]) => {
    const metafileName = join(file, '..', 'index.meta.json');
    if (!existsSync(metafileName)) throw new Error(`esbuild wrote no metafile beside ${file}`);
    return {
      functions,
      file,
      bytes: statSync(file).size,
      mapBytes: existsSync(`${file}.map`) ? statSync(`${file}.map`).size : 0,
      metafile: JSON.parse(readFileSync(metafileName, 'utf8')) as Metafile,
    };
  });
}

function bundleFileOf(app: App, fn: ServiceFunction): string {
  const code = fn.function.node.findChild('Code') as unknown as { assetPath: string };
  return join(app.outdir, code.assetPath, 'index.mjs');
}

/** How a variant differs from the stack's bundle. */
export type VariantChanges = {
  /** Left out of the bundle, as `externalModules`. */
  external?: string[];
  /** Import specifiers bundled as another file instead (absolute path), e.g. a no-op stand-in. */
  replace?: Record<string, string>;
};

/**
 * `entry` bundled with the stack's esbuild options (LAMBDA_BUNDLING) and `changes`, into `outdir`/index.mjs.
 * esbuild's JS API here, where the CDK runs its CLI: the same options, so that only the changes differ. Under
 * the project's node_modules, Node resolves what was left external as the Lambda runtime would its own copy.
 */
export async function buildVariant(
  entry: string,
  outdir: string,
  changes: VariantChanges,
): Promise<{ file: string; bytes: number }> {
  const { build } = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, 'index.mjs');
  const replace = changes.replace ?? {};
  await build({
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile: file,
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    format: LAMBDA_BUNDLING.format,
    target: LAMBDA_BUNDLING.target,
    platform: LAMBDA_BUNDLING.platform,
    mainFields: LAMBDA_BUNDLING.mainFields,
    banner: { js: LAMBDA_BUNDLING.banner },
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    external: [...LAMBDA_BUNDLING.externalModules, ...(changes.external ?? [])],
    plugins: [
      {
        name: 'replace',
        setup(on) {
          on.onResolve({ filter: /.*/ }, ({ path }) => {
            const replacement = replace[path];
            return replacement === undefined ? undefined : { path: replacement };
          });
        },
      },
    ],
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size };
}

/** Where a bundle's bytes come from: the inputs grouped by package (node_modules) or project folder. */
export function contributorsOf(metafile: Metafile): { name: string; bytes: number }[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  if (!output) throw new Error('the metafile has no entry point output');
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
  }
  return [...bytes].map(([name, total]) => ({ name, bytes: total })).sort((a, b) => b.bytes - a.bytes);
}

/** `node_modules/@aws-sdk/core/dist-es/…` → `@aws-sdk/core`; `functions/core/ingest/x.ts` → `functions/core/ingest`. */
export function packageOf(input: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (inPackage?.[1]) return inPackage[1];
  const parts = input.split('/');
  return parts.length > 2 ? parts.slice(0, 3).join('/') : input;
}

/** The families the bundle's weight is discussed in (issue 14): each package in the first that matches. */
const FAMILIES: [string, RegExp][] = [
  ['AWS SDK', /^(@aws-sdk|@smithy|@aws-crypto)\/|^(mnemonist|obliterator|fast-xml-parser|strnum|bowser)$/],
  [
    'X-Ray SDK (Powertools Tracer)',
    /^(aws-xray-sdk-core|cls-hooked|semver|emitter-listener|shimmer|async-hook-jl|stack-chain|atomic-batcher)$/,
  ],
  ['Powertools', /^(@aws-lambda-powertools\/|@aws\/lambda-invoke-store$)/],
  ['zod', /^zod$/],
  ['this project', /^functions\//],
];

/** The contributors summed by family; whatever matches none is `other`. */
export function familiesOf(contributors: { name: string; bytes: number }[]): Map<string, number> {
  const totals = new Map<string, number>(FAMILIES.map(([family]) => [family, 0]));
  totals.set('other', 0);
  for (const { name, bytes } of contributors) {
    const family = FAMILIES.find(([, pattern]) => pattern.test(name))?.[0] ?? 'other';
    totals.set(family, (totals.get(family) ?? 0) + bytes);
  }
  return totals;
}
