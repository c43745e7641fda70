import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { newApp, removeAssemblies } from './infra-harness';

/*
 * cdk-nag 3 runs as a CDK policy-validation plugin. At synth it writes `validation-report.json` into the
 * cloud assembly; an unacknowledged error makes `app.synth()` throw (an in-memory app, as here) or makes
 * `cdk synth` exit non-zero. Acknowledged findings never reach the report: cdk-nag drops them itself.
 */

type Violation = { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] };
type ValidationReport = { pluginReports: { pluginName: string; violations: Violation[] }[] };

function synthWithNag(app: App): ValidationReport {
  buildApp(app);
  const assembly = app.synth();
  return JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
}

const violationsOf = (report: ValidationReport): string[] =>
  report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((v) =>
      v.violatingConstructs.map(
        (c) => `${plugin.pluginName} ${v.severity} ${v.ruleName} at ${c.constructPath}`,
      ),
    ),
  );

/** Every Validations.acknowledge() in the construct tree: rule id, reason and where. */
function acknowledgmentsOf(app: App): { id: string; reason: string; path: string }[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

// The defaults, and every optional part switched on (e-mail subscription, imported secrets with a
// name-only ARN and a customer managed key, invite mode, no API Gateway account role).
const CONFIGURATIONS = {
  defaults: {},
  'everything optional': {
    stage: 'full',
    alarmEmail: 'oncall@example.com',
    tfyProvisionMode: 'invite',
    tfyAcceptInviteUrl: 'https://acme.truefoundry.cloud/accept',
    tfySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hr/tfy',
    ingestSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hr/ingest-AbCdEf',
    ingestSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    apiGatewayCloudWatchRole: 'false',
    removalPolicy: 'destroy',
  },
};

const apps = new Map<string, App>();
const outcomes = new Map<string, { report: ValidationReport } | { error: Error }>();

afterAll(removeAssemblies);

beforeAll(() => {
  for (const [name, context] of Object.entries(CONFIGURATIONS)) {
    const app = newApp(context);
    apps.set(name, app);
    try {
      outcomes.set(name, { report: synthWithNag(app) });
    } catch (error) {
      // An unacknowledged error: synth throws with the formatted report as its message.
      outcomes.set(name, { error: error as Error });
    }
  }
});

describe.each(Object.keys(CONFIGURATIONS))('cdk-nag AwsSolutions + Serverless (%s)', (name) => {
  it('synthesises with no unacknowledged finding, error or warning', () => {
    const outcome = outcomes.get(name);
    if (outcome && 'error' in outcome) expect.fail(outcome.error.message);
    expect(outcome && violationsOf(outcome.report)).toEqual([]);
  });

  it('acknowledges each finding on its construct with a specific reason', () => {
    const acknowledgments = acknowledgmentsOf(apps.get(name) as App);
    expect(acknowledgments.length).toBeGreaterThan(0);
    const generic =
      /^(n\/?a|none|todo|tbd|ok|fine|false positive|not needed|not applicable|suppress(ed)?|ignore(d)?)\.?$/i;
    for (const { id, reason, path } of acknowledgments) {
      expect(id, path).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(reason.length, `${id} at ${path}`).toBeGreaterThanOrEqual(20);
      expect(reason, `${id} at ${path}`).not.toMatch(generic);
      // On a resource or the construct that owns it, never the whole stack or app.
      expect(path.split('/').length, `${id} at ${path}`).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('the nag check itself', () => {
  it('fails synth on an unacknowledged finding', () => {
    const app = newApp({ stage: 'nagcheck' });
    const stack = buildApp(app);
    new Topic(stack, 'UnencryptedTopic');
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS2|AwsSolutions-SNS3/);
  });
});
