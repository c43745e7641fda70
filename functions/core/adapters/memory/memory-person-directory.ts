import { isNewer } from '../../engine/person-view';
import type {
  ForgetSubject,
  LinkResult,
  OrderMark,
  PersonDirectory,
  PersonState,
  RecordApplied,
} from '../../engine/ports';

/** PersonDirectory in Maps: for unit tests and property tests. */
export class MemoryPersonDirectory implements PersonDirectory {
  private readonly people = new Map<string, PersonState>();
  private readonly owners = new Map<string, string>();
  /** Marks as versions before people existed kept them, per email: tests seed them to check the migration. */
  readonly legacyMarks = new Map<string, OrderMark>();
  /** When each person and each email link may be deleted, epoch ms: refreshed whenever they are written. */
  readonly expiresAtMs = { people: new Map<string, number>(), owners: new Map<string, number>() };

  /** `expiry`: the expiry of something written now (see personExpiresAtMs). */
  constructor(private readonly expiry: () => number = () => Number.POSITIVE_INFINITY) {}

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
    this.expiresAtMs.owners.set(email, this.expiry());
    this.expiresAtMs.people.set(personKey, this.expiry());
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
    // The person and every link they still own live on from their latest event.
    this.expiresAtMs.people.set(personKey, this.expiry());
    for (const account of person.accounts) {
      if (this.owners.get(account) === personKey) this.expiresAtMs.owners.set(account, this.expiry());
    }
    return { applied: true };
  }

  /** The person half of StateStore.forget: people, the links they own, legacy marks of their emails. */
  forget(subject: ForgetSubject): { people: number; emails: number } {
    let people = 0;
    let emails = 0;
    for (const key of subject.personKeys) {
      if (this.people.delete(key)) people++;
      this.expiresAtMs.people.delete(key);
    }
    for (const email of subject.emails) {
      const owner = this.owners.get(email);
      if (owner !== undefined && subject.personKeys.includes(owner)) {
        this.owners.delete(email);
        this.expiresAtMs.owners.delete(email);
        emails++;
      }
      this.legacyMarks.delete(email);
    }
    return { people, emails };
  }
}
