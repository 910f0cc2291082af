import { changedEvent, type ChangedEvent } from './schemas.js';

export interface EventHandlers {
  /** The stream is open (again): whatever was missed meanwhile should be read afresh. */
  onReady(): void;
  onChanged(event: ChangedEvent): void;
  /** The stream broke; the browser retries by itself while the agent answers. */
  onBroken(): void;
}

/** Follows the user's changes over Server-Sent Events (the session cookie authenticates it). */
export function followEvents(handlers: EventHandlers): () => void {
  let source: EventSource | undefined;
  let retry: number | undefined;
  let stopped = false;
  const open = () => {
    source = new EventSource('/v1/events');
    source.addEventListener('ready', () => handlers.onReady());
    source.addEventListener('changed', (message) => {
      try {
        const parsed = changedEvent.safeParse(JSON.parse((message as MessageEvent<string>).data));
        if (parsed.success) handlers.onChanged(parsed.data);
      } catch {
        // A line this page cannot read is skipped; the next one brings the state anyway.
      }
    });
    source.onerror = () => {
      handlers.onBroken();
      // A refused stream (the agent answered, but not 200) is closed for good by the browser: open it again later.
      if (source?.readyState === EventSource.CLOSED && !stopped) {
        retry = window.setTimeout(open, 2_000);
      }
    };
  };
  open();
  return () => {
    stopped = true;
    window.clearTimeout(retry);
    source?.close();
  };
}
