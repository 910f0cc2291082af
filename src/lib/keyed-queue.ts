/**
 * Work for one key (a chat) runs in the order it came, one piece at a time, while different keys
 * run side by side: a slow login in one chat holds up nothing in another. At most `depth` pieces
 * wait per key; beyond that new work is refused (run answers false) rather than queued without end.
 */
export class KeyedQueue<K> {
  private readonly tails = new Map<K, { promise: Promise<void>; waiting: number }>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly depth: number) {}

  /** Queues `work` behind the key's earlier work; false when the key already has `depth` waiting. */
  run(key: K, work: () => Promise<void>): boolean {
    const tail = this.tails.get(key);
    if (tail && tail.waiting >= this.depth) return false;
    const entry = tail ?? { promise: Promise.resolve(), waiting: 0 };
    entry.waiting++;
    const next = entry.promise.then(work).catch(() => undefined).finally(() => {
      entry.waiting--;
      this.running.delete(next);
      if (entry.waiting === 0 && this.tails.get(key) === entry) this.tails.delete(key);
    });
    entry.promise = next;
    this.tails.set(key, entry);
    this.running.add(next);
    return true;
  }

  /** Resolves when everything queued so far has run. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
