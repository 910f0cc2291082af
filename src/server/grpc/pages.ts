import type { Event as WireEvent, Record as WireRecord } from '../../gen/keeper/v1/vault.js';
import { Image as WireImage } from '../../gen/keeper/v1/images.js';

/**
 * Fills response messages up to a byte budget: items go into the current page until the next one
 * would not fit, which then starts a new page. An item larger than the budget gets a page alone
 * (it is never split). Sizes are upper bounds of the protobuf encoding, so a page never exceeds
 * the budget it was given.
 */
export class Pages<T> {
  private items: T[] = [];
  private bytes: number;

  constructor(
    private readonly budget: number,
    /** What a message costs besides its items (its other fields). */
    private readonly overhead: number,
  ) {
    this.bytes = overhead;
  }

  /** Adds an item of `size` bytes; answers the full page it closed, if it closed one. */
  add(item: T, size: number): T[] | undefined {
    let full: T[] | undefined;
    if (this.items.length > 0 && this.bytes + size > this.budget) full = this.take();
    this.items.push(item);
    this.bytes += size;
    return full;
  }

  /** The items of the page being filled (possibly none), starting a new one. */
  take(): T[] {
    const items = this.items;
    this.items = [];
    this.bytes = this.overhead;
    return items;
  }
}

/** A length-delimited field: its tag, its length as a varint (at most 5 bytes for 32 bits), its bytes. */
const DELIMITED = 6;
/** A varint field: its tag and up to 10 bytes. */
const VARINT = 11;

function text(value: string): number {
  return DELIMITED + Buffer.byteLength(value, 'utf8');
}

/** At most the bytes an event takes in a PullResponse (inside its own length-delimited entry). */
export function eventWireBytes(event: WireEvent): number {
  return DELIMITED + text(event.id) + text(event.type) + text(event.recordId) + text(event.clientId) + text(event.data) + 2 * VARINT;
}

/** At most the bytes a record takes in a ListResponse. */
export function recordWireBytes(record: WireRecord): number {
  let bytes = DELIMITED + text(record.id) + text(record.kind) + text(record.name) + text(record.conflictOf) + 3 * VARINT + 2;
  for (const field of record.fields) bytes += DELIMITED + text(field.name) + text(field.value) + text(field.kind) + 2;
  for (const tag of record.tags) bytes += text(tag);
  return bytes;
}

/** The bytes an image takes in a ListResponse (small: its metadata only). */
export function imageWireBytes(image: WireImage): number {
  return DELIMITED + WireImage.encode(image).finish().length;
}

/** What a ListResponse or PullResponse costs besides its entries: versions, times, the vault key. */
export function headWireBytes(vaultKey?: { keyId: string; envelope: string }): number {
  return 2 * VARINT + (vaultKey ? DELIMITED + text(vaultKey.keyId) + text(vaultKey.envelope) : 0);
}
