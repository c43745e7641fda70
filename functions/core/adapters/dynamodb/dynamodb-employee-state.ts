import type { EmployeeState, HighWaterMark } from '../../engine/ports';
import { StateStoreError, type StateTable } from './state-table';
import { highWaterMarkItemKey } from './table-schema';

/** Advances that may find the mark gone between losing and reading before advance gives up; marks never expire. */
const MAX_ADVANCE_TRIES = 3;

/**
 * EmployeeState on the state table: one high-water mark item per employee, moved only forward by a
 * conditional write on `occurredAt`, which compares as time because it is one fixed UTC format. Marks
 * carry no TTL: they must outlive the events they guard, or a late old event could undo a newer one.
 */
export class DynamoDbEmployeeState implements EmployeeState {
  constructor(private readonly table: StateTable) {}

  async advance(
    employeeKey: string,
    mark: HighWaterMark,
  ): Promise<{ applied: true } | { applied: false; newest: HighWaterMark }> {
    for (let tries = 1; tries <= MAX_ADVANCE_TRIES; tries++) {
      const result = await this.table.update({
        Key: highWaterMarkItemKey(employeeKey),
        UpdateExpression: 'SET #occurredAt = :occurredAt, #eventId = :eventId',
        // Equal timestamps pass: a redelivery of the event that set the mark must go on.
        ConditionExpression: 'attribute_not_exists(pk) OR #occurredAt <= :occurredAt',
        ExpressionAttributeNames: { '#occurredAt': 'occurredAt', '#eventId': 'eventId' },
        ExpressionAttributeValues: { ':occurredAt': mark.occurredAt, ':eventId': mark.eventId },
      });
      if (result.written) return { applied: true };
      if (result.current) return { applied: false, newest: markOf(result.current) };
    }
    throw new StateStoreError(`the mark of ${employeeKey} kept changing while being advanced`);
  }

  async get(employeeKey: string) {
    const item = await this.table.get(highWaterMarkItemKey(employeeKey));
    return item && markOf(item);
  }
}

const markOf = (item: Record<string, unknown>): HighWaterMark => ({
  occurredAt: String(item.occurredAt),
  eventId: String(item.eventId),
});
