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
import { type Item, StateStoreError, type StateTable } from './state-table';
import { emailOwnerItemKey, legacyMarkItemKey, personItemKey, TTL_ATTRIBUTE } from './table-schema';

/** Writes that may lose to a concurrent change of the same person before giving up. */
const MAX_TRIES = 3;

export type ApplyResult = { applied: true } | { applied: false; newest: OrderMark };

/**
 * PersonDirectory on the state table: a person item (mark, status, accounts) per person and an owner item
 * per email. Every change is a conditional write on what was read, so a lost race is seen, not overwritten.
 * Every write of a person or a link sets its TTL anew (privacy/retention.ts): they expire after the
 * retention period counted from the person's last event.
 */
export class DynamoDbPersonDirectory implements PersonDirectory {
  constructor(
    private readonly table: StateTable,
    private readonly retention: Retention,
  ) {}

  async get(personKey: string): Promise<PersonState | undefined> {
    const item = await this.table.get(personItemKey(personKey));
    return item && personOf(personKey, item);
  }

  async ownerOf(email: string) {
    const item = await this.table.get(emailOwnerItemKey(email));
    return item ? String(item.personKey) : undefined;
  }

  async link(personKey: string, email: string, expectedOwner: string | undefined): Promise<LinkResult> {
    const owned = await this.table.update({
      Key: emailOwnerItemKey(email),
      UpdateExpression: 'SET #personKey = :me, #expiresAt = :expiresAt',
      ConditionExpression:
        expectedOwner === undefined
          ? 'attribute_not_exists(pk) OR #personKey = :me'
          : 'attribute_not_exists(pk) OR #personKey = :me OR #personKey = :expected',
      ExpressionAttributeNames: { '#personKey': 'personKey', '#expiresAt': TTL_ATTRIBUTE },
      ExpressionAttributeValues: {
        ':me': personKey,
        ':expiresAt': this.expiresAt(),
        ...(expectedOwner === undefined ? {} : { ':expected': expectedOwner }),
      },
    });
    if (!owned.written) {
      return { linked: false, owner: owned.current ? String(owned.current.personKey) : undefined };
    }
    // Usually the account is listed already: then only the expiry moves on, in one write as before.
    const refreshed = await this.table.update(
      {
        Key: personItemKey(personKey),
        UpdateExpression: 'SET #expiresAt = :expiresAt',
        ConditionExpression: 'contains(#accounts, :address)',
        ExpressionAttributeNames: { '#accounts': 'accounts', '#expiresAt': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':address': email, ':expiresAt': this.expiresAt() },
      },
      'ignore',
    );
    if (refreshed.written) return { linked: true };
    // Appended only when missing; a crash before this write is repaired by the next delivery's link.
    await this.table.update(
      {
        Key: personItemKey(personKey),
        UpdateExpression:
          'SET #accounts = list_append(if_not_exists(#accounts, :empty), :email), #expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(#accounts) OR NOT contains(#accounts, :address)',
        ExpressionAttributeNames: { '#accounts': 'accounts', '#expiresAt': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':empty': [],
          ':email': [email],
          ':address': email,
          ':expiresAt': this.expiresAt(),
        },
      },
      'ignore',
    );
    return { linked: true };
  }

  async legacyMark(email: string): Promise<OrderMark | undefined> {
    const item = await this.table.get(legacyMarkItemKey(employeeKeyOf(email)));
    // Sequence 0: a new event at the same time wins the tie, as equal times passed before sequences existed.
    return item && { at: String(item.occurredAt), eventId: String(item.eventId), sequence: 0 };
  }

  /**
   * The person half of recordSuccess: moves the mark only forward, conditioned on the mark and accounts as
   * read, so neither a newer event nor a link made meanwhile is overwritten.
   */
  async apply(personKey: string, update: RecordApplied): Promise<ApplyResult> {
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
      const item = await this.table.get(personItemKey(personKey));
      const person = item ? personOf(personKey, item) : { personKey, accounts: [] };
      const mark = person.mark;
      if (mark && mark.eventId !== update.mark.eventId && !isNewer(update.mark, mark)) {
        return { applied: false, newest: mark };
      }
      const accounts = [...person.accounts.filter((e) => e !== update.current), update.current];
      const result = await this.table.update(
        {
          Key: personItemKey(personKey),
          UpdateExpression:
            'SET #markAt = :at, #markSequence = :sequence, #markEventId = :eventId, #status = :status, #accounts = :accounts, #expiresAt = :expiresAt',
          ConditionExpression: mark
            ? '#markEventId = :seenEventId AND size(#accounts) = :seenAccounts'
            : item
              ? 'attribute_not_exists(#markEventId) AND size(#accounts) = :seenAccounts'
              : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: {
            '#markAt': 'markAt',
            '#markSequence': 'markSequence',
            '#markEventId': 'markEventId',
            '#status': 'status',
            '#accounts': 'accounts',
            '#expiresAt': TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':expiresAt': this.expiresAt(),
            ':at': update.mark.at,
            ':sequence': update.mark.sequence,
            ':eventId': update.mark.eventId,
            ':status': update.status,
            ':accounts': accounts,
            ...(mark ? { ':seenEventId': mark.eventId } : {}),
            ...(item ? { ':seenAccounts': person.accounts.length } : {}),
          },
        },
        'ignore',
      );
      if (result.written) {
        await this.refreshLinks(personKey, accounts);
        return { applied: true };
      }
    }
    throw new StateStoreError(`person ${personKey} kept changing while recording an applied event`);
  }

  /**
   * The person half of StateStore.forget: their person items, the links they (still) hold and the legacy
   * marks of their emails. Each delete is its own; a repeat finishes what a failed one left.
   */
  async forget(subject: ForgetSubject): Promise<{ people: number; emails: number }> {
    let people = 0;
    let emails = 0;
    for (const key of subject.personKeys) {
      const deleted = await this.table.delete({ Key: personItemKey(key), ReturnValues: 'ALL_OLD' });
      if (deleted.written && deleted.attributes) people++;
    }
    for (const email of subject.emails) {
      const owner = await this.ownerOf(email);
      if (owner !== undefined && subject.personKeys.includes(owner)) {
        // Only while it is still theirs: a link taken over meanwhile belongs to someone else now.
        const deleted = await this.table.delete(
          {
            Key: emailOwnerItemKey(email),
            ConditionExpression: '#personKey = :owner',
            ExpressionAttributeNames: { '#personKey': 'personKey' },
            ExpressionAttributeValues: { ':owner': owner },
          },
          'ignore',
        );
        if (deleted.written) emails++;
      }
      await this.table.delete({ Key: legacyMarkItemKey(employeeKeyOf(email)) });
    }
    return { people, emails };
  }

  /** The links the person holds live on with them: an offboard must still find every account of theirs. */
  private async refreshLinks(personKey: string, accounts: readonly string[]): Promise<void> {
    await Promise.all(
      accounts.map((email) =>
        this.table.update(
          {
            Key: emailOwnerItemKey(email),
            UpdateExpression: 'SET #expiresAt = :expiresAt',
            ConditionExpression: '#personKey = :me',
            ExpressionAttributeNames: { '#personKey': 'personKey', '#expiresAt': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':me': personKey, ':expiresAt': this.expiresAt() },
          },
          'ignore',
        ),
      ),
    );
  }

  /** The TTL of a person or link written now, in epoch seconds. */
  private expiresAt(): number {
    return Math.floor(personExpiresAtMs(this.retention.now(), this.retention.days) / 1000);
  }
}

function personOf(personKey: string, item: Item): PersonState {
  const status = item.status as PersonStatus | undefined;
  const mark: OrderMark | undefined =
    item.markEventId === undefined
      ? undefined
      : {
          at: String(item.markAt),
          sequence: Number(item.markSequence ?? 0),
          eventId: String(item.markEventId),
        };
  return {
    personKey,
    accounts: Array.isArray(item.accounts) ? item.accounts.map(String) : [],
    ...(mark ? { mark } : {}),
    ...(status ? { status } : {}),
  };
}
