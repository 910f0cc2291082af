/**
 * The SQL port every Postgres-backed part uses, so the event store, auth and the read model run
 * the same SQL on real PostgreSQL (`pg`) and embedded PGlite.
 */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
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
