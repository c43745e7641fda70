import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalDatabase, openLocalDatabase } from '../../local/database';
import { GroupCommit, GroupCommitError } from '../../local/group-commit';

let dir: string;
let db: LocalDatabase;
let commits: GroupCommit;
/** A second connection to the same file: it sees only what the first has committed. */
let reader: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hrp-group-commit-'));
  db = openLocalDatabase(join(dir, 'pipeline.db'));
  db.exec('CREATE TABLE rows (id TEXT PRIMARY KEY)');
  commits = new GroupCommit(db);
  reader = new Database(join(dir, 'pipeline.db'), { readonly: true });
});

afterEach(() => {
  reader.close();
  db.close();
  commits.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (id: string): void => {
  db.prepare('INSERT INTO rows (id) VALUES (?)').run(id);
};
const committedIds = () =>
  (reader.prepare('SELECT id FROM rows ORDER BY id').all() as { id: string }[]).map((r) => r.id);

/** Settles every promise; what each came to. */
const outcomes = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);

describe('GroupCommit', () => {
  it('runs concurrent units in one transaction and settles each only once its writes are committed', async () => {
    const seenAtSettle: string[][] = [];
    const units = ['a', 'b', 'c'].map((id) =>
      commits
        .run(async () => {
          insert(id);
          return id;
        })
        .then((value) => {
          // Read through another connection: uncommitted rows of the first are invisible to it.
          seenAtSettle.push(committedIds());
          return value;
        }),
    );

    expect(await Promise.all(units)).toEqual(['a', 'b', 'c']);
    for (const seen of seenAtSettle) expect(seen).toEqual(['a', 'b', 'c']);
    expect(db.inTransaction).toBe(false);
  });

  it('fails every unit of a group whose commit fails, and records none of them', async () => {
    // A deferred foreign key is checked at COMMIT: one unit breaking it makes SQLite refuse the whole commit.
    db.exec(`CREATE TABLE parents (id INTEGER PRIMARY KEY);
      CREATE TABLE children (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)`);
    const units = [
      commits.run(async () => insert('a')),
      commits.run(async () => {
        insert('poison');
        db.prepare('INSERT INTO children (parent) VALUES (42)').run();
      }),
      commits.run(async () => insert('c')),
    ];

    const settled = await outcomes(units);

    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(GroupCommitError);
    }
    expect(committedIds()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    // The next group commits as usual.
    await commits.run(async () => insert('d'));
    expect(committedIds()).toEqual(['d']);
  });

  it('rolls back a unit that throws to its own savepoint; the others of its group commit', async () => {
    const units = [
      commits.run(async () => insert('a')),
      commits.run(async () => {
        insert('b');
        throw new Error('refused');
      }),
      commits.run(async () => insert('c')),
    ];

    const settled = await outcomes(units);

    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(committedIds()).toEqual(['a', 'c']);
  });

  it('fails a group whose unit waits on I/O instead of leaving its transaction open to other callbacks', async () => {
    commits = new GroupCommit(db, { maxTurns: 1_000 });
    let otherCallbackSawTransaction: boolean | undefined;
    const units = [
      commits.run(async () => insert('a')),
      commits.run(async () => {
        insert('b');
        // Were the loop let go while the unit waits, this would run inside the open transaction.
        setImmediate(() => {
          otherCallbackSawTransaction = db.inTransaction;
        });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }),
    ];

    const settled = await outcomes(units);

    for (const outcome of settled) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(GroupCommitError);
    }
    await vi.waitFor(() => expect(otherCallbackSawTransaction).toBe(false));
    expect(committedIds()).toEqual([]);
  });

  it('publishes after the commit, in commit order, and never for a unit that was rolled back', async () => {
    const published: string[] = [];
    const send = (id: string) => {
      insert(id);
      commits.afterCommit(() => published.push(id));
    };
    const first = [
      commits.run(async () => send('a')),
      commits.run(async () => {
        send('b');
        throw new Error('refused');
      }),
    ];
    expect(published).toEqual([]);
    await outcomes(first);
    const second = commits.run(async () => send('c'));
    // Outside any group, with nothing waiting for a sync: at once.
    commits.afterCommit(() => published.push('outside'));
    await second;

    expect(published).toEqual(['a', 'outside', 'c']);
    expect(committedIds()).toEqual(['a', 'c']);
  });
});
