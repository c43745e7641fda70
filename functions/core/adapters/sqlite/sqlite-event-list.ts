import type Database from 'better-sqlite3';
import { EVENT_STATUSES, type EventPage, type EventStatus } from '../../engine/ports';
import { EVENT_ROW_COLUMNS, type EventRow, eventRecordOf } from './event-row';

type Page = { limit: number };
type ListStatement<P> = Database.Statement<[P & Page], EventRow>;

/**
 * Pages of events in the order of the status index, keyset-paged so that a page costs its size whatever the
 * offset: for one status oldest update first; for all, status by status, as a Scan of DynamoDB's byStatus
 * index reads. One statement per shape (status or not, cursor or not) so each is a plain index range scan.
 */
export class SqliteEventList {
  private readonly firstOfAll: ListStatement<object>;
  private readonly nextOfAll: ListStatement<ListPosition>;
  private readonly firstOfStatus: ListStatement<{ status: EventStatus }>;
  private readonly nextOfStatus: ListStatement<ListPosition>;

  constructor(db: Database.Database) {
    const select = `SELECT ${EVENT_ROW_COLUMNS} FROM event_records`;
    this.firstOfAll = db.prepare(`${select} ORDER BY status, updated_at, event_id LIMIT @limit`);
    this.nextOfAll = db.prepare(
      `${select} WHERE (status, updated_at, event_id) > (@status, @updatedAt, @eventId)
        ORDER BY status, updated_at, event_id LIMIT @limit`,
    );
    this.firstOfStatus = db.prepare(
      `${select} WHERE status = @status ORDER BY updated_at, event_id LIMIT @limit`,
    );
    this.nextOfStatus = db.prepare(
      `${select} WHERE status = @status AND (updated_at, event_id) > (@updatedAt, @eventId)
        ORDER BY updated_at, event_id LIMIT @limit`,
    );
  }

  list(query: { status?: EventStatus; limit: number; cursor?: string }): EventPage {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // A cursor from a listing of another status would skip or repeat records here.
    if (after && query.status !== undefined && after.status !== query.status)
      throw new Error('invalid cursor');
    // One more than asked tells whether another page follows, so the last page carries no cursor.
    const limit = query.limit + 1;
    const rows = after
      ? (query.status === undefined ? this.nextOfAll : this.nextOfStatus).all({ ...after, limit })
      : query.status === undefined
        ? this.firstOfAll.all({ limit })
        : this.firstOfStatus.all({ status: query.status, limit });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      records: page.map(eventRecordOf),
      ...(last && rows.length > query.limit ? { cursor: encodeCursor(last) } : {}),
    };
  }
}

/** Where a listing stopped: the status index key of the last record handed out. */
export type ListPosition = { status: EventStatus; updatedAt: string; eventId: string };

/** An opaque page cursor: the position as base64url JSON. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.status, position.updatedAt, position.eventId])).toString(
    'base64url',
  );
}

/** The position a cursor stands for; throws on anything this adapter did not hand out. */
export function decodeCursor(cursor: string): ListPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new Error('invalid cursor');
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw new Error('invalid cursor');
  const [status, updatedAt, eventId] = decoded;
  if (!isStatus(status) || typeof updatedAt !== 'string' || typeof eventId !== 'string') {
    throw new Error('invalid cursor');
  }
  return { status, updatedAt, eventId };
}

const isStatus = (value: unknown): value is EventStatus =>
  typeof value === 'string' && (EVENT_STATUSES as readonly string[]).includes(value);
