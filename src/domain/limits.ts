// Bounds on everything a client can send, so nothing unbounded reaches the store.
export const LIMITS = {
  recordNameMax: 200,
  fieldNameMax: 100,
  fieldCountMax: 100,
  /** Characters; room for a sealed (encrypted, base64) value of about 48 KiB of plaintext. */
  fieldValueMax: 64 * 1024,
  mutationsPerPushMax: 500,
  clientIdMax: 100,
} as const;

export const RECORD_KINDS = ['login', 'card', 'note', 'custom'] as const;
