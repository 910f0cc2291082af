export interface GroupCommitOptions<Req, Res> {
  /** Writes running at once; requests that arrive while this many run wait for the next group. */
  maxInFlight: number;
  /** A group's weight (for the event store: its events) stops growing at this; a heavier request goes alone. */
  maxWeight: number;
  weightOf(request: Req): number;
  /** Requests with the same key never share a group nor run at the same time (one stream's appends stay in order). */
  keyOf(request: Req): string;
  /** Writes a group as one unit of work; answers each request's own outcome, in the group's order. */
  write(group: readonly Req[]): Promise<Array<PromiseSettledResult<Res>>>;
}

interface Waiting<Req, Res> {
  request: Req;
  resolve(result: Res): void;
  reject(error: unknown): void;
}

/**
 * Group commit: while `maxInFlight` writes run, the requests that arrive wait, and the next write
 * carries all of them together. Under light load a request is written at once, alone; under heavy
 * load the writes grow instead of queueing one by one, so the database does one statement and one
 * commit for many requests. Each request still gets its own outcome.
 */
export class GroupCommit<Req, Res> {
  private waiting: Array<Waiting<Req, Res>> = [];
  private running = 0;
  /** Keys of the requests being written now. */
  private readonly writing = new Set<string>();

  constructor(private readonly options: GroupCommitOptions<Req, Res>) {
    if (!(options.maxInFlight >= 1)) throw new Error(`maxInFlight must be at least 1, got ${options.maxInFlight}`);
  }

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.maxInFlight) {
      const group = this.takeGroup();
      if (group.length === 0) return;
      this.running++;
      const keys = group.map((entry) => this.options.keyOf(entry.request));
      for (const key of keys) this.writing.add(key);
      const settle = (outcomes: Array<PromiseSettledResult<Res>>) => {
        group.forEach((entry, index) => {
          const outcome = outcomes[index];
          if (outcome === undefined) entry.reject(new Error('the group write answered fewer outcomes than it had requests'));
          else if (outcome.status === 'fulfilled') entry.resolve(outcome.value);
          else entry.reject(outcome.reason);
        });
      };
      void Promise.resolve()
        .then(() => this.options.write(group.map((entry) => entry.request)))
        .then(settle, (error: unknown) => group.forEach((entry) => entry.reject(error)))
        .finally(() => {
          this.running--;
          for (const key of keys) this.writing.delete(key);
          this.pump();
        });
    }
  }

  /** The oldest waiting requests that fit one group, skipping keys already taken or being written. */
  private takeGroup(): Array<Waiting<Req, Res>> {
    const group: Array<Waiting<Req, Res>> = [];
    const rest: Array<Waiting<Req, Res>> = [];
    const keys = new Set<string>();
    let weight = 0;
    for (const entry of this.waiting) {
      const key = this.options.keyOf(entry.request);
      const entryWeight = this.options.weightOf(entry.request);
      const fits = group.length === 0 || weight + entryWeight <= this.options.maxWeight;
      if (fits && !keys.has(key) && !this.writing.has(key)) {
        group.push(entry);
        keys.add(key);
        weight += entryWeight;
      } else {
        rest.push(entry);
      }
    }
    this.waiting = rest;
    return group;
  }
}
