import type Database from 'better-sqlite3';
import { isNewer } from '../../engine/person-view';
import type {
  ForgetSubject,
  LinkResult,
  OrderMark,
  PersonDirectory,
  PersonState,
  PersonStatus,
  RecordApplied,
} from '../../engine/ports';
import { employeeKeyOf } from '../../events/identity';
import { personExpiresAtMs, type Retention } from '../../privacy/retention';

type PersonRow = {
  personKey: string;
  markAt: string | null;
  markSequence: number | null;
  markEventId: string | null;
  status: PersonStatus | null;
  accounts: string;
};

export type ApplyResult = { applied: true } | { applied: false; newest: OrderMark };

type Expiring = { expiresAtMs: number };

/**
 * PersonDirectory on the people and email_owners tables. Each change is one IMMEDIATE transaction that
 * reads and writes, so two processes on the same file never interleave inside one. Every write of a person
 * moves their expiry, and their links' expiry, on (privacy/retention.ts); purgeExpired deletes them after.
 */
export class SqlitePersonDirectory implements PersonDirectory {
  private readonly readPerson: Database.Statement<[string], PersonRow>;
  private readonly readOwner: Database.Statement<[string], { personKey: string }>;
  private readonly readLegacy: Database.Statement<[string], { at: string; eventId: string }>;
  private readonly upsertOwner: Database.Statement<[{ email: string; personKey: string } & Expiring]>;
  private readonly upsertPerson: Database.Statement<[PersonRow & Expiring]>;
  private readonly refreshOwners: Database.Statement<[{ personKey: string } & Expiring]>;
  private readonly deletePerson: Database.Statement<[string]>;
  private readonly deleteOwnerOf: Database.Statement<[{ email: string; personKeys: string }]>;
  private readonly deleteLegacy: Database.Statement<[string]>;
  private readonly linkTx: Database.Transaction<
    (personKey: string, email: string, expectedOwner: string | undefined) => LinkResult
  >;
  /** The person half of recordSuccess; the caller runs it inside its own transaction. */
  readonly applyInTransaction: (personKey: string, update: RecordApplied) => ApplyResult;

  constructor(
    db: Database.Database,
    private readonly retention: Retention,
  ) {
    this.readPerson = db.prepare(
      `SELECT person_key AS personKey, mark_at AS markAt, mark_sequence AS markSequence,
        mark_event_id AS markEventId, status, accounts FROM people WHERE person_key = ?`,
    );
    this.readOwner = db.prepare('SELECT person_key AS personKey FROM email_owners WHERE email = ?');
    this.readLegacy = db.prepare(
      'SELECT occurred_at AS at, event_id AS eventId FROM employee_marks WHERE employee_key = ?',
    );
    this.upsertOwner = db.prepare(
      `INSERT INTO email_owners (email, person_key, expires_at_ms) VALUES (@email, @personKey, @expiresAtMs)
      ON CONFLICT (email) DO UPDATE SET person_key = excluded.person_key, expires_at_ms = excluded.expires_at_ms`,
    );
    this.upsertPerson = db.prepare(
      `INSERT INTO people (person_key, mark_at, mark_sequence, mark_event_id, status, accounts, expires_at_ms)
        VALUES (@personKey, @markAt, @markSequence, @markEventId, @status, @accounts, @expiresAtMs)
      ON CONFLICT (person_key) DO UPDATE SET mark_at = excluded.mark_at,
        mark_sequence = excluded.mark_sequence, mark_event_id = excluded.mark_event_id,
        status = excluded.status, accounts = excluded.accounts, expires_at_ms = excluded.expires_at_ms`,
    );
    this.refreshOwners = db.prepare(
      'UPDATE email_owners SET expires_at_ms = @expiresAtMs WHERE person_key = @personKey',
    );
    this.deletePerson = db.prepare('DELETE FROM people WHERE person_key = ?');
    // Only a link the forgotten person holds: an address since passed to someone else is theirs.
    this.deleteOwnerOf = db.prepare(
      'DELETE FROM email_owners WHERE email = @email AND person_key IN (SELECT value FROM json_each(@personKeys))',
    );
    this.deleteLegacy = db.prepare('DELETE FROM employee_marks WHERE employee_key = ?');
    this.linkTx = db.transaction((personKey: string, email: string, expectedOwner: string | undefined) => {
      const owner = this.readOwner.get(email)?.personKey;
      if (owner !== personKey && owner !== expectedOwner) return { linked: false, owner } as const;
      const expiresAtMs = this.expiry();
      this.upsertOwner.run({ email, personKey, expiresAtMs });
      const row = this.readPerson.get(personKey) ?? emptyRow(personKey);
      const accounts = JSON.parse(row.accounts) as string[];
      const linked = accounts.includes(email) ? accounts : [...accounts, email];
      this.upsertPerson.run({ ...row, accounts: JSON.stringify(linked), expiresAtMs });
      return { linked: true } as const;
    });
    this.applyInTransaction = (personKey, update) => {
      const row = this.readPerson.get(personKey) ?? emptyRow(personKey);
      const mark = markOf(row);
      if (mark && mark.eventId !== update.mark.eventId && !isNewer(update.mark, mark)) {
        return { applied: false, newest: mark };
      }
      const accounts = (JSON.parse(row.accounts) as string[]).filter((e) => e !== update.current);
      this.upsertPerson.run({
        personKey,
        markAt: update.mark.at,
        markSequence: update.mark.sequence,
        markEventId: update.mark.eventId,
        status: update.status,
        accounts: JSON.stringify([...accounts, update.current]),
        expiresAtMs: this.expiry(),
      });
      // Their links live as long as they do: an offboard must still find every account they hold.
      this.refreshOwners.run({ personKey, expiresAtMs: this.expiry() });
      return { applied: true };
    };
  }

  /** The person half of StateStore.forget; the caller runs it inside its own transaction. */
  forgetInTransaction(subject: ForgetSubject): { people: number; emails: number } {
    let people = 0;
    let emails = 0;
    const personKeys = JSON.stringify(subject.personKeys);
    for (const key of subject.personKeys) people += this.deletePerson.run(key).changes;
    for (const email of subject.emails) {
      emails += this.deleteOwnerOf.run({ email, personKeys }).changes;
      this.deleteLegacy.run(employeeKeyOf(email));
    }
    return { people, emails };
  }

  private expiry(): number {
    return personExpiresAtMs(this.retention.now(), this.retention.days);
  }

  async get(personKey: string): Promise<PersonState | undefined> {
    const row = this.readPerson.get(personKey);
    if (!row) return undefined;
    const mark = markOf(row);
    return {
      personKey,
      accounts: JSON.parse(row.accounts) as string[],
      ...(mark ? { mark } : {}),
      ...(row.status ? { status: row.status } : {}),
    };
  }

  async ownerOf(email: string) {
    return this.readOwner.get(email)?.personKey;
  }

  async link(personKey: string, email: string, expectedOwner: string | undefined) {
    return this.linkTx.immediate(personKey, email, expectedOwner);
  }

  async legacyMark(email: string): Promise<OrderMark | undefined> {
    const row = this.readLegacy.get(employeeKeyOf(email));
    // Sequence 0: a new event at the same time wins the tie, as equal times passed before sequences existed.
    return row && { at: row.at, eventId: row.eventId, sequence: 0 };
  }
}

const emptyRow = (personKey: string): PersonRow => ({
  personKey,
  markAt: null,
  markSequence: null,
  markEventId: null,
  status: null,
  accounts: '[]',
});

function markOf(row: PersonRow): OrderMark | undefined {
  if (row.markAt === null || row.markEventId === null) return undefined;
  return { at: row.markAt, sequence: row.markSequence ?? 0, eventId: row.markEventId };
}
