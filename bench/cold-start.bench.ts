/**
 * `npx tsx bench/cold-start.bench.ts`: what a Lambda cold start loads (issue 14, part 5). Synthesizes the stack
 * as `cdk synth` does, with esbuild's metafile beside each bundle, and gives for each bundle:
 *
 * - its size, minified, without the source map; target ≤ 300 KB. The details: what weighs most (the metafile's
 *   inputs by package) and by family (AWS SDK, X-Ray SDK, Powertools, zod, this project's code);
 * - its module init: the median of BENCH_COLD_START_RUNS (default 20) fresh Node processes importing it,
 *   nothing invoked, with Lambda's NODE_OPTIONS and environment, next to an empty module's (the floor);
 *   target ≤ 60 ms.
 *
 * Then the measurements behind the choices (lib/service-function.ts, functions/commons/powertools.ts), each
 * the ingest handler rebuilt with the stack's esbuild options and one change, against the same rebuild
 * without it: the AWS SDK left to the runtime (loaded from node_modules, as from the runtime's copy); no
 * Powertools Tracer (Lambda's active tracing alone); and the shipped bundle without `--enable-source-maps`.
 * BENCH_SCALE scales the runs (at least 3). It measures and does not gate: a missed target exits 0.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/project-paths';
import type { BenchModule, BenchResult, Figure } from './figure';
import {
  buildVariant,
  contributorsOf,
  familiesOf,
  type LambdaBundle,
  synthBundles,
  type VariantChanges,
} from './lambda-bundles';
import { type InitSubject, importTimes, LAMBDA_INIT_ENV, median, quantile } from './module-init';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const RUNS = scaled(Number(process.env.BENCH_COLD_START_RUNS ?? 20), 3);
const TARGET_KB = 300;
const TARGET_INIT_MS = 60;
/** Contributors listed in a size figure's details. */
const TOP = 10;
const NO_TRACER = join(PROJECT_ROOT, 'bench', 'no-tracer.ts');

/** The ingest handler's variants: one change each, against the same rebuild without it (`rebuilt`). */
const VARIANTS: { key: string; label: string; changes: VariantChanges }[] = [
  {
    key: 'sdk-unbundled',
    label: 'AWS SDK not bundled (loaded from node_modules, as from the runtime)',
    changes: { external: ['@aws-sdk/*'] },
  },
  {
    key: 'no-tracer',
    label: "no Powertools Tracer (Lambda's active tracing alone)",
    changes: {
      replace: {
        '@aws-lambda-powertools/tracer': NO_TRACER,
        '@aws-lambda-powertools/tracer/middleware': NO_TRACER,
      },
    },
  },
];

const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
const ms = (value: number) => Math.round(value * 10) / 10;

type Measured = { bundle: LambdaBundle; times: number[] };

const keyOf = (bundle: LambdaBundle) => bundle.functions.join('-');
const labelOf = (bundle: LambdaBundle) => `${bundle.functions.join(' + ')} λ`;
const familyKb = (families: Map<string, number>, family: string) => kb(families.get(family) ?? 0);

function timeDetails(times: number[], floor: number[]): Record<string, number> {
  return {
    'p25 ms': ms(quantile(times, 0.25)),
    'p75 ms': ms(quantile(times, 0.75)),
    'min ms': ms(Math.min(...times)),
    'max ms': ms(Math.max(...times)),
    'above the floor ms': ms(median(times) - median(floor)),
  };
}

function sizeFigure(bundle: LambdaBundle): Figure {
  const contributors = contributorsOf(bundle.metafile);
  const families = familiesOf(contributors);
  const sizeKb = kb(bundle.bytes);
  const met = sizeKb <= TARGET_KB;
  const heaviest = [...families]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([family, bytes]) => `${family} ${kb(bytes)} KB`)
    .join(', ');
  return {
    id: `cold-start.${keyOf(bundle)}.size`,
    label: `${labelOf(bundle)} bundle (minified, no source map)`,
    measured: sizeKb,
    unit: 'KB',
    target: { text: `≤ ${TARGET_KB} KB`, met },
    ...(met
      ? {}
      : {
          reason:
            `the AWS SDK code it runs (DynamoDB, SQS and Secrets Manager clients; kept bundled, see the ` +
            `sdk-unbundled figure) is ${familyKb(families, 'AWS SDK')} KB on its own; by family: ${heaviest}`,
        }),
    details: {
      'source map KB': kb(bundle.mapBytes),
      ...Object.fromEntries([...families].map(([family, bytes]) => [`${family} KB`, kb(bytes)])),
      ...Object.fromEntries(
        contributors.slice(0, TOP).map(({ name, bytes }, i) => [`top ${i + 1}`, `${name} ${kb(bytes)} KB`]),
      ),
    },
  };
}

function initFigure({ bundle, times }: Measured, floor: number[]): Figure {
  const measured = ms(median(times));
  const met = measured <= TARGET_INIT_MS;
  const families = familiesOf(contributorsOf(bundle.metafile));
  return {
    id: `cold-start.${keyOf(bundle)}.init`,
    label: `${labelOf(bundle)} module init (median of ${times.length} fresh processes)`,
    measured,
    unit: 'ms',
    reference: { label: 'empty module (floor)', value: ms(median(floor)), unit: 'ms' },
    target: { text: `≤ ${TARGET_INIT_MS} ms`, met },
    ...(met
      ? {}
      : {
          reason:
            `Node compiles all ${kb(bundle.bytes)} KB at import and runs every module's top level: the AWS ` +
            `SDK (${familyKb(families, 'AWS SDK')} KB), the X-Ray SDK that Powertools Tracer loads and hooks into ` +
            `the process (${familyKb(families, 'X-Ray SDK (Powertools Tracer)')} KB; see the no-tracer figure), ` +
            `zod and the schemas built with it at load (${familyKb(families, 'zod')} KB); and ` +
            '--enable-source-maps reads the source map and scans the bundle (see the no-source-maps figure)',
        }),
    details: { ...timeDetails(times, floor), node: process.version },
  };
}

function variantFigure(
  key: string,
  label: string,
  variant: { bytes: number; times: number[] },
  reference: { label: string; bytes: number; times: number[] },
): Figure {
  return {
    id: `cold-start.ingest.${key}.init`,
    label: `ingest λ module init, ${label}`,
    measured: ms(median(variant.times)),
    unit: 'ms',
    reference: { label: reference.label, value: ms(median(reference.times)), unit: 'ms' },
    details: {
      'bundle KB': kb(variant.bytes),
      'reference bundle KB': kb(reference.bytes),
      'p25 ms': ms(quantile(variant.times, 0.25)),
      'p75 ms': ms(quantile(variant.times, 0.75)),
    },
  };
}

async function measure(): Promise<BenchResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'hr-provisioning-cold-start-'));
  // Under the project's node_modules, so that Node resolves what a variant left external from there.
  const cacheDir = join(PROJECT_ROOT, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const variantDir = mkdtempSync(join(cacheDir, 'hr-provisioning-cold-start-'));
  try {
    const bundles = synthBundles(join(outdir, 'cdk.out'));
    const ingest = bundles.find((b) => b.functions.includes('ingest'));
    if (!ingest) throw new Error('the synthesized stack has no ingest bundle');
    const entry = 'functions/ingest.ts';
    const rebuilt = await buildVariant(entry, join(variantDir, 'rebuilt'), {});
    const variants = [];
    for (const v of VARIANTS) {
      variants.push({ ...v, ...(await buildVariant(entry, join(variantDir, v.key), v.changes)) });
    }
    const floorFile = join(outdir, 'empty.mjs');
    writeFileSync(floorFile, 'export {};\n');
    const { NODE_OPTIONS: _, ...withoutNodeOptions } = LAMBDA_INIT_ENV;

    const subjects: Record<string, InitSubject> = {
      floor: { file: floorFile },
      ...Object.fromEntries(bundles.map((b) => [keyOf(b), { file: b.file }])),
      rebuilt: { file: rebuilt.file },
      ...Object.fromEntries(variants.map((v) => [v.key, { file: v.file }])),
      'no-source-maps': { file: ingest.file, env: withoutNodeOptions },
    };
    const times = await importTimes(subjects, RUNS);
    const timesOf = (name: string) => times.get(name) ?? [];
    const floor = timesOf('floor');
    const ingestTimes = timesOf(keyOf(ingest));
    const rebuiltReference = {
      label: 'rebuilt as shipped, no change',
      bytes: rebuilt.bytes,
      times: timesOf('rebuilt'),
    };
    return {
      figures: [
        ...bundles.map(sizeFigure),
        ...bundles.map((bundle) => initFigure({ bundle, times: timesOf(keyOf(bundle)) }, floor)),
        ...variants.map((v) =>
          variantFigure(v.key, v.label, { bytes: v.bytes, times: timesOf(v.key) }, rebuiltReference),
        ),
        variantFigure(
          'no-source-maps',
          'without --enable-source-maps (stack traces would name the minified bundle)',
          { bytes: ingest.bytes, times: timesOf('no-source-maps') },
          { label: 'with it (as shipped)', bytes: ingest.bytes, times: ingestTimes },
        ),
      ],
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(variantDir, { recursive: true, force: true });
  }
}

export const coldStartBench: BenchModule = { name: 'cold-start', run: measure };
export default coldStartBench;

runWhenMain(import.meta.url, coldStartBench);
