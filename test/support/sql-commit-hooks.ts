import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, SqlExecutor, TransactionOptions } from '../../src/server/sql/database.js';

/** Databases whose appends commit late, on a timer or on a signal: the SQL store's log reads are tested against them. */

/**
 * Whether a statement is the event store's append (it inserts into `events`). The store runs it
 * in autocommit: a single statement, atomic on its own, whose commit follows its work.
 */
export function isAppendStatement(text: string): boolean {
  return /\bINSERT\s+INTO\s+events\b/i.test(text);
}

/**
 * Runs `hold` between the work and the commit of whatever appends through `db`: an autocommit
 * append statement is run in a transaction of its own so that its commit can be held back (the
 * statement's transaction id is taken while it runs, as in autocommit, and it commits late), and
 * a transaction holds after its work too, in case an append runs in one.
 */
export function withHookedCommits(db: Database, hold: () => Promise<void>): Database {
  return {
    kind: db.kind,
    query<Row>(text: string, params?: readonly unknown[]) {
      if (!isAppendStatement(text)) return db.query<Row>(text, params);
      return db.transaction(async (tx) => {
        const rows = await tx.query<Row>(text, params);
        await hold();
        return rows;
      });
    },
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions) {
      return db.transaction(async (tx) => {
        const value = await fn(tx);
        await hold();
        return value;
      }, options);
    },
    exec: (script) => db.exec(script),
    close: () => db.close(),
  };
}

/** The same database; every append waits `delay()` ms after its work, before it commits. */
export function withCommitDelay(db: Database, delay: () => number): Database {
  return withHookedCommits(db, async () => {
    const ms = delay();
    if (ms > 0) await sleep(ms);
  });
}

/**
 * The same database; an append does its work, reports `reached`, and commits only on `release()`.
 * `held` counts the appends that were held (so a test can tell the hook really ran).
 */
export function withHeldCommit(db: Database): { db: Database; reached: Promise<void>; release: () => void; held: () => number } {
  let release!: () => void;
  let signalReached!: () => void;
  let held = 0;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (signalReached = resolve));
  return {
    reached,
    release,
    held: () => held,
    db: withHookedCommits(db, async () => {
      held++;
      signalReached();
      await gate;
    }),
  };
}
