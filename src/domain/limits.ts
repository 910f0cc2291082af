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
  mutationsPerPushMax: 500,
  clientIdMax: 100,
  /** An image's file name as the user named it (a sealed name is longer). */
  imageFileNameMax: 255,
  sealedImageFileNameMax: 512,
  imagesPerRecordMax: 50,
  /** A reason an image job failed, as shown to the user. */
  imageFailureMax: 500,
} as const;

export const RECORD_KINDS = ['login', 'card', 'note', 'custom'] as const;

/** Prefix of a value sealed on the client (AES-256-GCM); anyone can tell it, no one can read it without the key. */
export const SEALED_PREFIX = 'kpr1.';
