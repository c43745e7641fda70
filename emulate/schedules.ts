import type { EmulatedStack } from './cloudformation';
import type { Emit, InvokeResult } from './invoke';

/** An EventBridge rule of the template that invokes functions on a fixed rate. */
export type ScheduledRule = {
  logicalId: string;
  expression: string;
  periodMs: number;
  targets: { functionLogicalId: string; input: unknown }[];
};

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The template's enabled `AWS::Events::Rule`s with a `rate(…)` schedule and function targets. */
export function schedulesOf(stack: EmulatedStack): ScheduledRule[] {
  return stack.resourcesOfType('AWS::Events::Rule').flatMap(([logicalId, properties]) => {
    const expression = String(properties.ScheduleExpression ?? '');
    const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
    if (!rate || (properties.State ?? 'ENABLED') !== 'ENABLED') return [];
    const targets = ((properties.Targets ?? []) as { Arn?: unknown; Input?: unknown }[]).map((target) => {
      const getAtt = (target.Arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
      const [functionLogicalId, attribute] = getAtt ?? [];
      if (!functionLogicalId || attribute !== 'Arn')
        throw new Error(`the rule ${logicalId} must name its function target by Fn::GetAtt Arn`);
      return {
        functionLogicalId,
        input: target.Input === undefined ? {} : (JSON.parse(String(stack.resolve(target.Input))) as unknown),
      };
    });
    return [
      {
        logicalId,
        expression,
        periodMs: Number(rate[1]) * (UNIT_MS[rate[2] ?? 'minute'] ?? 60_000),
        targets,
      },
    ];
  });
}

/**
 * EventBridge's scheduled rules: each target invoked with its input once a period, as EventBridge invokes a
 * Lambda target (asynchronously: a failure is logged, not retried, as the template's retry policy of 0
 * says). `runNow` invokes every target at once, for an operator or a test that cannot wait for the period.
 */
export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly rules: ScheduledRule[],
    private readonly invoke: (functionLogicalId: string, event: unknown) => Promise<InvokeResult>,
    private readonly emit: Emit,
  ) {}

  start(): void {
    for (const rule of this.rules) {
      const timer = setInterval(() => void this.run(rule), rule.periodMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** Invokes every rule's targets now; answers each invocation's outcome. */
  async runNow(): Promise<{ rule: string; function: string; result: InvokeResult }[]> {
    return (await Promise.all(this.rules.map((rule) => this.run(rule)))).flat();
  }

  private async run(rule: ScheduledRule) {
    return Promise.all(
      rule.targets.map(async (target) => {
        const result = await this.invoke(target.functionLogicalId, target.input);
        if (!result.ok)
          this.emit('WARN', 'a scheduled invocation failed', {
            rule: rule.logicalId,
            errorType: result.errorType,
            errorMessage: result.errorMessage,
          });
        return { rule: rule.logicalId, function: target.functionLogicalId, result };
      }),
    );
  }
}
