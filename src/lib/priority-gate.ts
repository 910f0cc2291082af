export type Priority = 'data' | 'bulk';

/**
 * At most `limit` works at once, and of them at most `bulkLimit` bulk ones; when a place frees,
 * waiting data work goes first, whatever came earlier. A user's records and syncs are what a
 * person waits on; image transfers can take their turn.
 */
export class PriorityGate {
  private running = 0;
  private runningBulk = 0;
  private readonly waiting: Record<Priority, Array<() => void>> = { data: [], bulk: [] };

  constructor(
    private readonly limit: number,
    private readonly bulkLimit: number,
  ) {}

  async run<T>(priority: Priority, work: () => Promise<T>): Promise<T> {
    if (!this.mayStart(priority)) await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
    else this.take(priority);
    try {
      return await work();
    } finally {
      this.running--;
      if (priority === 'bulk') this.runningBulk--;
      this.next();
    }
  }

  private mayStart(priority: Priority): boolean {
    if (this.running >= this.limit) return false;
    if (priority === 'bulk') return this.runningBulk < this.bulkLimit && this.waiting.data.length === 0;
    return true;
  }

  private take(priority: Priority): void {
    this.running++;
    if (priority === 'bulk') this.runningBulk++;
  }

  private next(): void {
    for (const priority of ['data', 'bulk'] as const) {
      while (this.waiting[priority].length > 0 && this.mayStart(priority)) {
        this.take(priority);
        this.waiting[priority].shift()!();
      }
    }
  }
}
