import { EVENT_STATUSES, type EventStatus } from '../../engine/ports';

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
