import { extname } from 'node:path';
import { findNodeAtLocation, type Node, parseTree } from 'jsonc-parser';
import { type ErrorBody, MAX_EVENTS_BODY_BYTES } from '../../../functions/core/ingest/http';
import { MAX_EVENTS_PER_REQUEST } from '../../../functions/core/ingest/routes/post-events';
import { CliError } from '../cli-io';

/** One event of the file as it will be sent, with the line it starts on for error messages. */
export type FileEvent = { line: number; value: unknown; json: string };

const JSON_LINES_EXTENSIONS = new Set(['.jsonl', '.ndjson']);

/**
 * Reads events from a JSON file (one event, an array, or `{ "events": [...] }`) or a JSON Lines file.
 * `.jsonl`/`.ndjson` are JSON Lines; any other file is JSON unless it only parses line by line.
 */
export function readEventsFile(name: string, text: string): FileEvent[] {
  const content = text.replace(/^\uFEFF/, '');
  if (JSON_LINES_EXTENSIONS.has(extname(name).toLowerCase())) return readJsonLines(name, content);
  let whole: unknown;
  try {
    whole = JSON.parse(content);
  } catch (error) {
    if (looksLikeJsonLines(content)) return readJsonLines(name, content);
    throw new CliError(`${name} is not JSON: ${(error as Error).message}`);
  }
  return eventsOfJson(name, content, whole);
}

function readJsonLines(name: string, content: string): FileEvent[] {
  const events: FileEvent[] = [];
  const problems: string[] = [];
  content.split('\n').forEach((raw, index) => {
    const json = raw.trim();
    if (json === '') return;
    try {
      const value: unknown = JSON.parse(json);
      events.push({ line: index + 1, value, json: JSON.stringify(value) });
    } catch (error) {
      problems.push(`  line ${index + 1}: ${(error as Error).message}`);
    }
  });
  if (problems.length > 0) {
    throw new CliError(
      `${name}: ${problems.length} line(s) are not JSON; nothing was sent\n${problems.join('\n')}`,
    );
  }
  if (events.length === 0) throw new CliError(`${name} holds no events`);
  return events;
}

function eventsOfJson(name: string, content: string, whole: unknown): FileEvent[] {
  const wrapped = typeof whole === 'object' && whole !== null && !Array.isArray(whole) && 'events' in whole;
  const items: unknown = wrapped ? (whole as { events: unknown }).events : whole;
  if (wrapped && !Array.isArray(items)) throw new CliError(`${name}: "events" must be an array of events`);
  const list = Array.isArray(items) ? items : [items];
  if (list.length === 0) throw new CliError(`${name} holds no events`);
  const lines = elementLines(content, wrapped, Array.isArray(items), list.length);
  return list.map((value, index) => ({ line: lines[index] ?? 1, value, json: JSON.stringify(value) }));
}

/** The line each event starts on, found in the syntax tree (JSON.parse keeps no positions). */
function elementLines(content: string, wrapped: boolean, isArray: boolean, count: number): number[] {
  const root = parseTree(content);
  const container: Node | undefined = wrapped && root ? findNodeAtLocation(root, ['events']) : root;
  const offsets = isArray
    ? (container?.children ?? []).map((child) => child.offset)
    : [container?.offset ?? 0];
  const lineOf = lineCounter(content);
  return offsets.slice(0, count).map(lineOf);
}

/** Line numbers for increasing offsets, counted in one pass over the text. */
function lineCounter(text: string): (offset: number) => number {
  let position = 0;
  let line = 1;
  return (offset) => {
    for (; position < offset; position++) if (text.charCodeAt(position) === 10) line++;
    return line;
  };
}

/** JSON Lines under another extension: several lines, and the first one is a whole JSON value by itself. */
function looksLikeJsonLines(content: string): boolean {
  const lines = content.split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 2) return false;
  try {
    JSON.parse(lines[0]!);
    return true;
  } catch {
    return false;
  }
}

/** One POST /events body and the file events it carries, in order (the server's `event` index). */
export type EventsRequest = { events: FileEvent[]; body: string };

const ENVELOPE = '{"events":[]}';

/** Packs events into as few requests as the API takes: at most 500 events and 1 MiB each. */
export function eventRequests(events: readonly FileEvent[], name: string): EventsRequest[] {
  const requests: EventsRequest[] = [];
  let current: FileEvent[] = [];
  let bytes = Buffer.byteLength(ENVELOPE);
  const close = () => {
    if (current.length === 0) return;
    requests.push({ events: current, body: `{"events":[${current.map((e) => e.json).join(',')}]}` });
    current = [];
    bytes = Buffer.byteLength(ENVELOPE);
  };
  for (const event of events) {
    const size = Buffer.byteLength(event.json) + 1; // and its comma
    if (size + Buffer.byteLength(ENVELOPE) > MAX_EVENTS_BODY_BYTES) {
      throw new CliError(`${name}: the event on line ${event.line} is larger than a request may be (1 MiB)`);
    }
    if (current.length === MAX_EVENTS_PER_REQUEST || bytes + size > MAX_EVENTS_BODY_BYTES) close();
    current.push(event);
    bytes += size;
  }
  close();
  return requests;
}

/**
 * The server's validation issues with each event named by its line in the file and its id, and the path
 * inside the event without the `events[n].` the request added.
 */
export function describeIssues(problem: Partial<ErrorBody>, request: readonly FileEvent[]): string[] {
  const issues = problem.issues ?? [];
  if (issues.length === 0) return [`  ${problem.message ?? problem.error ?? 'refused without a reason'}`];
  return issues.map((issue) => {
    const event = issue.event === undefined ? undefined : request[issue.event];
    const path = issue.path.replace(/^(events)?\[\d+\]\.?/, '');
    const where = event ? `line ${event.line}${idOf(event.value)}` : 'request';
    return `  ${where}: ${path === '' ? '' : `${path}: `}${issue.message}`;
  });
}

function idOf(value: unknown): string {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? ` (${id})` : '';
}
