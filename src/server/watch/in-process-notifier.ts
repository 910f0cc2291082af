import type { VersionChange, VersionNotifier, VersionSubscriber } from './port.js';

/**
 * The notifier for a single process (PGlite is embedded, so no other process appends): a change
 * goes straight to this instance's subscribers.
 */
export class InProcessVersionNotifier implements VersionNotifier {
  private readonly subscribers = new Set<VersionSubscriber>();

  publish(change: VersionChange): void {
    for (const subscriber of this.subscribers) {
      // A subscriber only schedules a read; its failure must not reach the append that published.
      try {
        subscriber.changed({ ...change });
      } catch {
        // Nothing to undo: the next change or reconnect pokes the same watchers again.
      }
    }
  }

  subscribe(subscriber: VersionSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.subscribers.clear();
  }
}
