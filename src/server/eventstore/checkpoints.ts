import type { SqlExecutor } from '../sql/database.js';
import { LOG_START, type LogPosition } from './port.js';

/**
 * Where each tailer of the global log (the read-model projector, the image job relay) has got to,
 * one row per tailer in rm_checkpoints, in the read model's database whatever the event store.
 * A tailer reads a batch from the event store, then applies it in a transaction that holds its
 * row locked and finds it where the batch started, so two processes running the same tailer
 * never apply a batch twice (the one that finds the row moved drops its batch and reads again).
 */

/** The tailer's position without locking it (the start of the log when it never ran). */
export async function readCheckpoint(sql: SqlExecutor, name: string): Promise<LogPosition> {
  const rows = await sql.query<{ commit_position: string; prepare_position: string }>(
    `SELECT commit_position::text AS commit_position, prepare_position::text AS prepare_position FROM rm_checkpoints WHERE projection = $1`,
    [name],
    { name: 'keeper_checkpoint_read' },
  );
  const row = rows[0];
  return row ? { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) } : LOG_START;
}

export function samePosition(a: LogPosition, b: LogPosition): boolean {
  return a.commit === b.commit && a.prepare === b.prepare;
}

/** Locks the tailer's row (created at the start of the log if missing) and returns its position. */
export async function lockCheckpoint(tx: SqlExecutor, name: string): Promise<LogPosition> {
  const lock = () =>
    tx.query<{ commit_position: string; prepare_position: string }>(
      `SELECT commit_position::text AS commit_position, prepare_position::text AS prepare_position
       FROM rm_checkpoints WHERE projection = $1 FOR UPDATE`,
      [name],
      { name: 'keeper_checkpoint_lock' },
    );
  // The row exists but for the very first batch (or after a rebuild): one round trip then.
  let row = (await lock())[0];
  if (!row) {
    await tx.query(
      `INSERT INTO rm_checkpoints (projection, commit_position, prepare_position) VALUES ($1, $2::text::xid8, $3)
       ON CONFLICT (projection) DO NOTHING`,
      [name, LOG_START.commit.toString(), LOG_START.prepare.toString()],
      { name: 'keeper_checkpoint_init' },
    );
    row = (await lock())[0]!;
  }
  return { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) };
}

/** Moves the locked row past the last event of the batch just applied. */
export async function moveCheckpoint(tx: SqlExecutor, name: string, position: LogPosition): Promise<void> {
  await tx.query(
    `UPDATE rm_checkpoints SET commit_position = $2::text::xid8, prepare_position = $3, updated_at = now() WHERE projection = $1`,
    [name, position.commit.toString(), position.prepare.toString()],
    { name: 'keeper_checkpoint_move' },
  );
}
