import { isNewer } from '../../engine/order';
import type { LinkResult, OrderMark, PersonDirectory, PersonState, RecordApplied } from '../../engine/ports';

/** PersonDirectory in Maps: for unit tests and property tests. */
export class MemoryPersonDirectory implements PersonDirectory {
  private readonly people = new Map<string, PersonState>();
  private readonly owners = new Map<string, string>();
  /** Marks as versions before people existed kept them, per email: tests seed them to check the migration. */
  readonly legacyMarks = new Map<string, OrderMark>();

  async get(personKey: string) {
    const person = this.people.get(personKey);
    return person && structuredClone(person);
  }

  async ownerOf(email: string) {
    return this.owners.get(email);
  }

  async link(personKey: string, email: string, expectedOwner: string | undefined): Promise<LinkResult> {
    const owner = this.owners.get(email);
    if (owner !== personKey && owner !== expectedOwner) return { linked: false, owner };
    this.owners.set(email, personKey);
    const person = this.people.get(personKey) ?? { personKey, accounts: [] };
    if (!person.accounts.includes(email)) person.accounts.push(email);
    this.people.set(personKey, person);
    return { linked: true };
  }

  async legacyMark(email: string) {
    const mark = this.legacyMarks.get(email);
    return mark && { ...mark };
  }

  /** The person half of StateStore.recordSuccess. */
  apply(personKey: string, update: RecordApplied): { applied: true } | { applied: false; newest: OrderMark } {
    const person = this.people.get(personKey) ?? { personKey, accounts: [] };
    if (person.mark && person.mark.eventId !== update.mark.eventId && !isNewer(update.mark, person.mark)) {
      return { applied: false, newest: { ...person.mark } };
    }
    person.mark = { ...update.mark };
    person.status = update.status;
    person.accounts = [...person.accounts.filter((e) => e !== update.current), update.current];
    this.people.set(personKey, person);
    return { applied: true };
  }
}
