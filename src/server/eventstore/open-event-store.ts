import type { Database } from '../sql/database.js';
import type { EventStore } from './port.js';
import { KurrentEventStore } from './kurrent.js';
import { SqlEventStore } from './sql.js';

export interface EventStoreChoice {
  /** A KurrentDB connection string (kurrentdb://, esdb://); without one the log lives in the SQL database. */
  eventStoreUrl?: string | undefined;
}

export interface OpenedEventStore {
  store: EventStore;
  /** Closes what the store opened itself (a KurrentDB connection); the SQL database is the caller's. */
  close(): Promise<void>;
}

/** The one place an event store is chosen: every process and tool opens its log here. */
export async function openEventStore(choice: EventStoreChoice, db?: Database): Promise<OpenedEventStore> {
  if (choice.eventStoreUrl) {
    const store = await KurrentEventStore.connect(choice.eventStoreUrl);
    return { store, close: () => store.close() };
  }
  if (!db) throw new Error('the SQL event store needs the database it lives in');
  return { store: new SqlEventStore(db), close: async () => {} };
}
