import { extname } from 'node:path';
import { findNodeAtLocation, type Node, parseTree } from 'jsonc-parser';
import { CliError } from '../cli-error';

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
