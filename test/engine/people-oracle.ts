import type { CanonicalEvent } from '../../functions/core/events/canonical-event';

/** An accepted event as the oracle sees it: the event and its acceptance sequence. */
export type OracleEvent = { event: CanonicalEvent; sequence: number };

type Mark = { at: string; sequence: number; eventId: string };
type Person = { mark?: Mark; status?: 'active' | 'offboarded'; accounts: string[] };
type Account = { exists: boolean; active: boolean; roles: string[] };

const newer = (a: Mark, b: Mark) => a.at > b.at || (a.at === b.at && a.sequence > b.sequence);

/**
 * The contract of DESIGN.md's semantics, written out plainly and separately from the engine: what
 * TrueFoundry and each event's status must be after events are applied one at a time, in the order given.
 * Only employee ids are used (no email-only people), as the property test generates them.
 */
export class PeopleOracle {
  private readonly persons = new Map<string, Person>();
  private readonly owners = new Map<string, string>();
  private readonly users = new Map<string, Account>();
  private readonly finished = new Map<string, 'succeeded' | 'superseded' | 'failed'>();

  /** Applies one delivery that reached a verdict; returns the status the event must have after it. */
  apply({ event, sequence }: OracleEvent): 'succeeded' | 'superseded' | 'failed' {
    const done = this.finished.get(event.id);
    if (done === 'succeeded' || done === 'superseded') return done;
    const status = this.decide(event, { at: event.occurredAt, sequence, eventId: event.id });
    this.finished.set(event.id, status);
    return status;
  }

  accounts(): ReadonlyMap<string, Account> {
    return this.users;
  }

  people(): ReadonlyMap<string, Person> {
    return this.persons;
  }

  ownedBy(personKey: string): string[] {
    return [...this.owners].filter(([, owner]) => owner === personKey).map(([email]) => email);
  }

  private decide(event: CanonicalEvent, mark: Mark): 'succeeded' | 'superseded' | 'failed' {
    const key = `id:${event.employee.id}`;
    const email = event.employee.email;
    const person = this.persons.get(key) ?? { accounts: [] };
    const owner = this.owners.get(email);
    const other = owner !== undefined && owner !== key ? this.persons.get(owner) : undefined;

    // Order: the person's own mark, and the mark of a leaver whose address this is.
    const guards = [person.mark, other?.status === 'offboarded' ? other.mark : undefined];
    for (const guard of guards) {
      if (guard && guard.eventId !== mark.eventId && !newer(mark, guard)) return 'superseded';
    }
    // Conflict: the address is another person's current account and they are active (or never finished).
    if (owner !== undefined && owner !== key) {
      const held =
        other?.status === undefined || (other.status === 'active' && other.accounts.at(-1) === email);
      if (held) return 'failed';
    }
    const previous = person.accounts.filter((a) => a !== email && this.owners.get(a) === key);

    if (event.type === 'offboard') {
      if (owner === undefined) this.link(key, person, email);
      for (const account of [email, ...previous]) this.deactivate(account);
      const current = person.accounts.at(-1) ?? email;
      this.record(key, person, mark, 'offboarded', current);
      return 'succeeded';
    }
    if (event.type === 'role_change' && person.status === 'offboarded') {
      this.record(key, person, mark, 'offboarded', person.accounts.at(-1) ?? email);
      return 'succeeded';
    }
    this.link(key, person, email);
    const roles = event.roles ?? [];
    const user = this.users.get(email);
    if (!user?.exists) this.users.set(email, { exists: true, active: true, roles });
    else if (user.active || event.type === 'hire')
      this.users.set(email, { exists: true, active: true, roles });
    for (const account of previous) this.deactivate(account);
    this.record(key, person, mark, 'active', email);
    return 'succeeded';
  }

  private link(key: string, person: Person, email: string) {
    this.owners.set(email, key);
    if (!person.accounts.includes(email)) person.accounts.push(email);
    this.persons.set(key, person);
  }

  private deactivate(email: string) {
    const user = this.users.get(email);
    if (user?.exists) this.users.set(email, { ...user, active: false });
  }

  private record(key: string, person: Person, mark: Mark, status: 'active' | 'offboarded', current: string) {
    person.mark = mark;
    person.status = status;
    person.accounts = [...person.accounts.filter((a) => a !== current), current];
    this.persons.set(key, person);
  }
}
