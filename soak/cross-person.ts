import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { PeopleOracle } from '../test/engine/people-oracle';
import type { Random } from './random';
import type { SoakSettings } from './settings';

/**
 * The cross-person events, planned against the state the main load leads to (the oracle run over it in
 * send order): hires and email changes onto an address another active person holds (permanent failures),
 * and rehires under a new employee number with a leaver's address (re-links).
 */
export function crossPersonEvents(
  random: Random,
  main: CanonicalEvent[],
  settings: SoakSettings,
  atMs: number,
) {
  const oracle = new PeopleOracle();
  for (const [index, event] of main.entries()) oracle.apply({ event, sequence: index + 1 });
  const current = (key: string) => {
    const accounts = oracle.ownedBy(key);
    const last = oracle.people().get(key)?.accounts.at(-1);
    return last !== undefined && accounts.includes(last) ? last : undefined;
  };
  const byStatus = (status: 'active' | 'offboarded') =>
    random.shuffle(
      [...oracle.people()]
        .filter(([key, person]) => person.status === status && current(key) !== undefined)
        .map(([key]) => key),
    );
  const active = byStatus('active');
  const leavers = byStatus('offboarded');
  const occurredAt = new Date(atMs).toISOString();
  const roles = ['tenant-member'];
  const events: CanonicalEvent[] = [];
  const expectedConflicts = new Map<string, string>();
  const employeeOf = (key: string) => key.slice('id:'.length);

  const hireConflicts = Math.ceil(settings.deliberateFailures / 2);
  for (let k = 0; k < settings.deliberateFailures; k++) {
    const holder = active.pop();
    if (holder === undefined) break;
    const email = current(holder) as string;
    if (k < hireConflicts) {
      const id = `soak-final-taken-${k}`;
      events.push({ id, type: 'hire', occurredAt, employee: { id: `X${k}`, email }, roles });
      expectedConflicts.set(id, employeeOf(holder));
      continue;
    }
    const mover = active.pop();
    if (mover === undefined) break;
    const id = `soak-final-move-${k}`;
    const employee = { id: employeeOf(mover), email, name: 'Soak Mover' };
    events.push({ id, type: 'role_change', occurredAt, employee, roles });
    expectedConflicts.set(id, employeeOf(holder));
  }
  let relinks = 0;
  for (let k = 0; k < settings.relinks; k++) {
    const leaver = leavers.pop();
    if (leaver === undefined) break;
    const email = current(leaver) as string;
    events.push({
      id: `soak-final-relink-${k}`,
      type: 'hire',
      occurredAt,
      employee: { id: `R${k}`, email },
      roles,
    });
    relinks++;
  }
  return { events, expectedConflicts, relinks };
}
