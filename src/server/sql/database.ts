/**
 * The SQL port every Postgres-backed part uses, so the event store, auth and the read model run
 * the same SQL on real PostgreSQL (`pg`) and embedded PGlite.
 */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
}

export interface QueryOptions {
  /**
   * A name for a statement run often. A driver that can (pg) prepares it once per connection and
   * then only binds and executes it, sparing PostgreSQL the parse and plan of every run; others
   * ignore it. One name must always go with one text (a name per distinct text), and the set of
   * names must stay small: each connection keeps every statement it prepared.
   */
  name?: string;
}

export interface TransactionOptions {
  readOnly?: boolean;
  /** One snapshot for every statement of the transaction (a consistent read across tables). */
  repeatableRead?: boolean;
}

export interface Database extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}
