import { isNewer } from '../../engine/order';
import type {
  LinkResult,
  OrderMark,
  PersonDirectory,
  PersonState,
  PersonStatus,
  RecordApplied,
} from '../../engine/ports';
import { employeeKeyOf } from '../../events/employee-key';
import { type Item, StateStoreError, type StateTable } from './state-table';
import { emailOwnerItemKey, legacyMarkItemKey, personItemKey } from './table-schema';

/** Writes that may lose to a concurrent change of the same person before giving up. */
const MAX_TRIES = 3;

export type ApplyResult = { applied: true } | { applied: false; newest: OrderMark };

/**
 * PersonDirectory on the state table: a person item (mark, status, accounts) per person and an owner item
 * per email. Every change is a conditional write on what was read, so a lost race is seen, not overwritten.
 */
export class DynamoDbPersonDirectory implements PersonDirectory {
  constructor(private readonly table: StateTable) {}

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
      UpdateExpression: 'SET #personKey = :me',
      ConditionExpression:
        expectedOwner === undefined
          ? 'attribute_not_exists(pk) OR #personKey = :me'
          : 'attribute_not_exists(pk) OR #personKey = :me OR #personKey = :expected',
      ExpressionAttributeNames: { '#personKey': 'personKey' },
      ExpressionAttributeValues: {
        ':me': personKey,
        ...(expectedOwner === undefined ? {} : { ':expected': expectedOwner }),
      },
    });
    if (!owned.written) {
      return { linked: false, owner: owned.current ? String(owned.current.personKey) : undefined };
    }
    // Appended only when missing; a crash before this write is repaired by the next delivery's link.
    await this.table.update(
      {
        Key: personItemKey(personKey),
        UpdateExpression: 'SET #accounts = list_append(if_not_exists(#accounts, :empty), :email)',
        ConditionExpression: 'attribute_not_exists(#accounts) OR NOT contains(#accounts, :address)',
        ExpressionAttributeNames: { '#accounts': 'accounts' },
        ExpressionAttributeValues: { ':empty': [], ':email': [email], ':address': email },
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
            'SET #markAt = :at, #markSequence = :sequence, #markEventId = :eventId, #status = :status, #accounts = :accounts',
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
          },
          ExpressionAttributeValues: {
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
      if (result.written) return { applied: true };
    }
    throw new StateStoreError(`person ${personKey} kept changing while recording an applied event`);
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
