import { createVaultKey, rewrapVaultKey, unwrapVaultKey, wipe, type KdfCost, type KdfOptions, type VaultKey, type VaultKeyEnvelope } from '../crypto/index.js';

/** The vault is encrypted and this operation needs the key. */
export class VaultLocked extends Error {
  constructor(what: string) {
    super(`the vault is encrypted and locked: unlock it to ${what}`);
    this.name = 'VaultLocked';
  }
}

export type KeyRingKdf = KdfOptions & { cost?: Partial<KdfCost> };

/**
 * The one vault key of a replica while it is unlocked, and the ways to get it: the secret word
 * asked for (when the face can ask), given to `unlock`, or handed over already unwrapped (a
 * `keeper unlock` session). The secret word itself is never kept.
 */
export class KeyRing {
  private current: VaultKey | null;

  constructor(
    private readonly userId: string,
    private readonly kdf: KeyRingKdf,
    private readonly askSecret: (() => Promise<string>) | undefined,
    given: VaultKey | null,
  ) {
    this.current = given;
  }

  get key(): VaultKey | null {
    return this.current;
  }

  get canAsk(): boolean {
    return this.askSecret !== undefined;
  }

  /** Opens the envelope with the secret word; a wrong word throws and leaves the ring as it was. */
  async unlock(envelope: string, secret: string): Promise<VaultKey> {
    const key = await unwrapVaultKey(JSON.parse(envelope), secret, this.userId, this.kdf);
    this.forget();
    this.current = key;
    return key;
  }

  /** Asks for the secret word (a face that cannot ask gets VaultLocked) and opens the envelope. */
  async ask(envelope: string): Promise<VaultKey> {
    if (!this.askSecret) throw new VaultLocked('read it');
    return this.unlock(envelope, await this.askSecret());
  }

  /** Wipes the key from memory. */
  forget(): void {
    if (this.current) wipe(this.current);
    this.current = null;
  }

  /** The key for a write to an encrypted vault; a write that needs it while locked is refused. */
  forWriting(encrypted: boolean, needed: boolean | undefined, what: string): VaultKey | null {
    if (!encrypted) return null;
    if (!this.current) {
      if (needed) throw new VaultLocked(what);
      return null;
    }
    return this.current;
  }

  /** A new vault key wrapped by `secret`; it becomes the ring's key only once `adopt`ed. */
  create(secret: string): Promise<{ key: VaultKey; envelope: VaultKeyEnvelope }> {
    return createVaultKey(secret, this.userId, this.kdfForCreation());
  }

  adopt(key: VaultKey): void {
    if (this.current !== key) this.forget();
    this.current = key;
  }

  /** The same vault key wrapped by a new secret word. */
  rewrap(envelope: string, oldSecret: string, newSecret: string): Promise<VaultKeyEnvelope> {
    return rewrapVaultKey(JSON.parse(envelope), oldSecret, newSecret, this.userId, this.kdfForCreation());
  }

  private kdfForCreation(): KdfOptions & { kdf?: Partial<KdfCost> } {
    return { ...this.kdf, ...(this.kdf.cost ? { kdf: this.kdf.cost } : {}) };
  }
}
