import { userIdOfStream } from '../../domain/vault-state.js';
import type { EventStore } from '../eventstore/port.js';
import type { VersionNotifier } from './port.js';

/** Publishes every user-stream append this store commits; returns the unsubscribe. */
export function publishAppends(store: Pick<EventStore, 'onAppended'>, notifier: Pick<VersionNotifier, 'publish'>): () => void {
  return store.onAppended((streamId, version) => {
    const userId = userIdOfStream(streamId);
    if (userId) notifier.publish({ userId, version });
  });
}
