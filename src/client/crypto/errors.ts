/**
 * Typed errors of the client-side crypto. Messages never contain a secret word, a key or a
 * plaintext, so they are safe to print and to log.
 */
export type KeeperCryptoErrorCode =
  | 'wrong_secret_word'
  | 'invalid_secret_word'
  | 'malformed_envelope'
  | 'unsafe_kdf_params'
  | 'plaintext_too_large'
  | 'malformed_sealed_value'
  | 'sealed_value_rejected'
  | 'corrupt_cache'
  | 'session_key_mismatch';

/** Base class: `instanceof KeeperCryptoError` catches every error below. */
export class KeeperCryptoError extends Error {
  constructor(
    readonly code: KeeperCryptoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KeeperCryptoError';
  }
}

/**
 * The secret word did not open the envelope. AES-GCM cannot tell a wrong word from a wrapped key
 * that was altered (or an envelope moved to another user with its `userId` rewritten): all of
 * them fail the same authentication check, and none of them reveals or changes anything.
 */
export class WrongSecretWord extends KeeperCryptoError {
  constructor() {
    super('wrong_secret_word', 'the secret word is wrong');
    this.name = 'WrongSecretWord';
  }
}

/** A new secret word that cannot be used (empty after normalisation). */
export class InvalidSecretWord extends KeeperCryptoError {
  constructor(message = 'the secret word must not be empty') {
    super('invalid_secret_word', message);
    this.name = 'InvalidSecretWord';
  }
}

/** The stored envelope is not one this client can use: wrong shape, version, encoding or user. */
export class MalformedEnvelope extends KeeperCryptoError {
  constructor(message: string, code: KeeperCryptoErrorCode = 'malformed_envelope') {
    super(code, `malformed vault key envelope: ${message}`);
    this.name = 'MalformedEnvelope';
  }
}

/**
 * KDF parameters outside the bounds this client accepts (too weak, or hostile: absurd memory or
 * time). A special case of MalformedEnvelope, since the parameters come from the envelope.
 */
export class UnsafeKdfParams extends MalformedEnvelope {
  constructor(message: string) {
    super(`refused KDF parameters: ${message}`, 'unsafe_kdf_params');
    this.name = 'UnsafeKdfParams';
  }
}

/** A value too large to seal into a field (see MAX_SEALED_PLAINTEXT_BYTES). */
export class PlaintextTooLarge extends KeeperCryptoError {
  constructor(
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super('plaintext_too_large', `value is too large to seal: ${sizeBytes} bytes, at most ${maxBytes} bytes`);
    this.name = 'PlaintextTooLarge';
  }
}

/** Not a sealed value at all (no `kpr1.` prefix, bad encoding, too short). */
export class MalformedSealedValue extends KeeperCryptoError {
  constructor(message = 'not a sealed value') {
    super('malformed_sealed_value', message);
    this.name = 'MalformedSealedValue';
  }
}

/** A well-formed sealed value that fails authentication. */
export class SealedValueRejected extends KeeperCryptoError {
  constructor() {
    super(
      'sealed_value_rejected',
      'the sealed value cannot be opened: it was altered, moved to another record or field, or sealed with another key',
    );
    this.name = 'SealedValueRejected';
  }
}

export type CorruptCacheReason = 'not_a_cache' | 'unsupported_version' | 'truncated' | 'rejected' | 'checksum_mismatch';

/** A local cache file that cannot be trusted; the caller should drop it and pull again. */
export class CorruptCache extends KeeperCryptoError {
  constructor(
    readonly reason: CorruptCacheReason,
    message: string,
  ) {
    super('corrupt_cache', `local cache rejected: ${message}`);
    this.name = 'CorruptCache';
  }
}

export type SessionKeyMismatchReason = 'malformed_secret' | 'malformed_key' | 'mismatch';

/** The session secret does not open the protected key (or either is malformed). */
export class SessionKeyMismatch extends KeeperCryptoError {
  constructor(
    readonly reason: SessionKeyMismatchReason,
    message = 'the session secret does not match the stored session key: unlock again',
  ) {
    super('session_key_mismatch', message);
    this.name = 'SessionKeyMismatch';
  }
}
