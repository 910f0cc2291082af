// Bounds on everything a client can send, so nothing unbounded reaches the store.
export const LIMITS = {
  recordNameMax: 200,
  /** A name sealed on the client (whole-record encryption) is longer than its plaintext. */
  sealedRecordNameMax: 400,
  /** A wrapped vault key envelope (JSON) as stored for the user. */
  keyEnvelopeMax: 4096,
  fieldNameMax: 100,
  fieldCountMax: 100,
  /** Characters; room for a sealed (encrypted, base64) value of about 48 KiB of plaintext. */
  fieldValueMax: 64 * 1024,
  /**
   * A record's name and fields as JSON, in UTF-8 bytes: one record (or the event that writes it)
   * always fits a gRPC message under the default 4 MiB receive limit, with room to spare.
   */
  recordBytesMax: 3.5 * 1024 * 1024,
  mutationsPerPushMax: 500,
  clientIdMax: 100,
  /** An image's file name as the user named it (a sealed name is longer). */
  imageFileNameMax: 255,
  sealedImageFileNameMax: 512,
  imagesPerRecordMax: 50,
  /** A reason an image job failed, as shown to the user. */
  imageFailureMax: 500,
  /** A tag as the user typed it; sealed (the vault encrypted) it is longer. */
  tagMax: 50,
  sealedTagMax: 320,
  tagsPerRecordMax: 20,
} as const;

export const RECORD_KINDS = ['login', 'card', 'note', 'custom'] as const;

/**
 * What a field's value is: plain text, or a one-time-code secret (an otpauth:// URI or a base32
 * secret; always sensitive). A field without a kind is text, which is how every older event reads.
 */
export const FIELD_KINDS = ['text', 'totp'] as const;

/** Prefix of a value sealed on the client (AES-256-GCM); anyone can tell it, no one can read it without the key. */
export const SEALED_PREFIX = 'kpr1.';

/**
 * List and Pull answer in messages of at most this many bytes; a client may ask for less, down to
 * pageBytesMin. A single record or event larger than a page comes alone in its own message.
 */
export const PAGING = {
  pageBytesMax: 1024 * 1024,
  pageBytesMin: 64 * 1024,
} as const;

/** The page size a server uses for a client's request (0: the largest). */
export function pageBytesFor(requested: number): number {
  if (!requested) return PAGING.pageBytesMax;
  return Math.min(PAGING.pageBytesMax, Math.max(PAGING.pageBytesMin, requested));
}
