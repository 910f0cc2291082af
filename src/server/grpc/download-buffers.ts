/**
 * Buffers a download reads its pieces into, handed from one download to the next. A fresh buffer
 * per piece is a fresh ArrayBuffer, and V8 starts a full collection for every few tens of MB of
 * those: under a steady image load that was a collection every few hundred milliseconds, each
 * pausing data requests too. A download holds one buffer while it streams and gives it back at
 * its end; at most `keep` idle buffers are kept (the rest go to the collector).
 */
export class DownloadBuffers {
  private readonly idle: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafe(this.size);
  }

  give(buffer: Buffer): void {
    if (this.idle.length < this.keep && buffer.length === this.size) this.idle.push(buffer);
  }

  /** Idle buffers kept now. */
  get kept(): number {
    return this.idle.length;
  }
}
