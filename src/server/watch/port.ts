/**
 * The notifier port: how every server process sharing one database learns that a user's stream
 * moved, so the process holding that user's Watch calls can poke them. A notification carries no
 * changes (watchers read the current version themselves), so a lost or coalesced one costs only
 * a later poke, never a wrong answer; `missed` says when one may have been lost.
 */
export interface VersionChange {
  userId: string;
  /** The stream's version after the append. */
  version: number;
}

export interface VersionSubscriber {
  /** A change published through any instance on the same database, this one's included. */
  changed(change: VersionChange): void;
  /** Changes may have gone unheard (the adapter lost its connection and has it back): look again at every user followed. */
  missed(): void;
}

export interface VersionNotifier {
  /**
   * Tells every subscriber on the same database, as soon as it can. Never throws and never makes
   * the caller wait: the append it follows has committed whatever happens to the notification.
   */
  publish(change: VersionChange): void;
  subscribe(subscriber: VersionSubscriber): () => void;
  /** Resolves once changes published from now on reach this instance's subscribers. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
