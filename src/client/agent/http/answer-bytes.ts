/**
 * An answer's JSON assembled as bytes: pieces of UTF-8 kept ready (a replica's list entries, in
 * one block per revision) and short strings, written once into a buffer of the exact size.
 *
 * Why bytes: a JSON answer built by joining strings is a rope that the framework flattens to
 * measure it (Content-Length) and the socket write flattens and encodes again; the measuring
 * alone was about 7 % of the agent's CPU under the bench's load. A buffer is measured by its
 * length, written to the socket as it is, and a run of entries that lie side by side in their
 * block (a page of the list, in name order) is one copy.
 */
const COMMA = Buffer.from(',');
/**
 * Pieces up to this long are copied byte by byte: most of a search answer's pieces are a comma or
 * a few bytes of JSON around an entry, and a native copy (with the view it needs) costs more than
 * such a piece's bytes: a 20-hit answer's pieces took 4.1 us to copy natively, 1.5 us this way.
 */
const SHORT_PIECE = 32;

export class AnswerBytes {
  private readonly parts: Array<Uint8Array | string> = [];
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  private size = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.size;
  }

  /** A string, as UTF-8. */
  text(text: string): this {
    const bytes = Buffer.byteLength(text);
    this.parts.push(text);
    this.from.push(0);
    this.to.push(bytes);
    this.size += bytes;
    return this;
  }

  /** Bytes [start, end) of `block` (all of it when no range is given). */
  bytes(block: Uint8Array, start = 0, end = block.length): this {
    const last = this.parts.length - 1;
    if (last >= 0 && this.parts[last] === block && this.to[last] === start) {
      // Right after the previous piece of the same block: one longer copy.
      this.to[last] = end;
    } else {
      this.parts.push(block);
      this.from.push(start);
      this.to.push(end);
    }
    this.size += end - start;
    return this;
  }

  /**
   * Bytes [start, end) of `block` as the next element of a JSON array whose elements are followed
   * by a comma in their block: the comma comes from the block when the previous element lies right
   * before this one there (one longer copy), otherwise it is written.
   */
  element(block: Uint8Array, start: number, end: number, first: boolean): this {
    const last = this.parts.length - 1;
    if (!first && last >= 0 && this.parts[last] === block && this.to[last]! + 1 === start) {
      this.size += end - this.to[last]!;
      this.to[last] = end;
      return this;
    }
    if (!first) this.bytes(COMMA);
    return this.bytes(block, start, end);
  }

  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    let at = 0;
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i]!;
      if (typeof part === 'string') {
        at += out.write(part, at);
      } else {
        const from = this.from[i]!;
        const to = this.to[i]!;
        if (to - from <= SHORT_PIECE) {
          for (let k = from; k < to; k++) out[at++] = part[k]!;
        } else {
          out.set(from === 0 && to === part.length ? part : part.subarray(from, to), at);
          at += to - from;
        }
      }
    }
    return out;
  }
}

/** A constant piece of JSON, encoded once. */
export function jsonPiece(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/**
 * JSON entries side by side in one buffer, each followed by a comma, found by key: what a list or
 * a search copies its entries from. Built from the previous block when there is one: an entry
 * whose source object is the same as before is copied over instead of written again.
 */
export class EntryBlock<T extends object> {
  private constructor(
    readonly bytes: Buffer,
    private readonly slots: Map<string, number>,
    private readonly sources: readonly T[],
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
  ) {}

  /**
   * @param items in the order the block keeps them (the order a page reads them in)
   * @param json an item's entry, called only for items not in `previous` as they are
   */
  static build<T extends object>(items: ReadonlyArray<{ key: string; source: T }>, json: (source: T) => string, previous?: EntryBlock<T>): EntryBlock<T> {
    const answer = new AnswerBytes();
    const slots = new Map<string, number>();
    const sources: T[] = [];
    const starts = new Uint32Array(items.length);
    const ends = new Uint32Array(items.length);
    for (const { key, source } of items) {
      const slot = sources.length;
      const before = previous?.slots.get(key);
      starts[slot] = answer.length;
      if (before !== undefined && previous!.sources[before] === source) answer.bytes(previous!.bytes, previous!.starts[before]!, previous!.ends[before]! + 1);
      else answer.text(json(source)).bytes(COMMA);
      ends[slot] = answer.length - 1;
      slots.set(key, slot);
      sources.push(source);
    }
    return new EntryBlock(answer.toBuffer(), slots, sources, starts, ends);
  }

  /** Where the entry of `key` is (undefined when the block has none). */
  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  /** Adds the entry at `slot` to `answer`. */
  copySlot(slot: number, answer: AnswerBytes): void {
    answer.bytes(this.bytes, this.starts[slot]!, this.ends[slot]!);
  }

  /** Adds the entry of `key` as the next element of a JSON array (see AnswerBytes.element); false when the block has none. */
  element(key: string, answer: AnswerBytes, first: boolean): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    answer.element(this.bytes, this.starts[slot]!, this.ends[slot]!, first);
    return true;
  }
}
