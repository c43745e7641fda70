import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { TrueFoundryUsersClient } from '../functions/core/truefoundry/client';
import type { Sandbox } from '../sandbox';

/**
 * The reference for the throughput bench: what a one-off script would do with the same events, the same
 * TrueFoundry client and the same minimal calls, one call after another: read the account by email, then a
 * hire pre-registers (if absent) and sets the roles, a role change sets the roles, an offboard deactivates.
 * The client paces at `rate` like the runtime's, so the script is held to the same limit; one call at a time
 * with the sandbox's latency stays under it anyway. No ledger, no queue, no retries beyond the client's own.
 */
export async function runSequentially(
  sandbox: Sandbox,
  events: CanonicalEvent[],
  rate: number,
): Promise<{ ms: number; startedAt: number }> {
  const client = new TrueFoundryUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    requestsPerSecond: rate,
  });
  const startedAt = Date.now();
  const started = performance.now();
  for (const event of events) {
    const email = event.employee.email;
    const user = await client.findByEmail(email);
    if (event.type === 'offboard') {
      if (user?.active) await client.deactivate({ email });
      continue;
    }
    if (!user) await client.preRegister({ email, skipIfUserExists: true });
    await client.updateRoles({ email, roles: event.roles ?? [] });
  }
  return { ms: performance.now() - started, startedAt };
}
