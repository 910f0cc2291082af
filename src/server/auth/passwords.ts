import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

export const MIN_BCRYPT_COST = 10;
export const MAX_BCRYPT_COST = 31;

/**
 * bcrypt hashing with a fixed work factor. For unknown logins, `verifyDummy` spends the same time
 * as a real check against a hash of the same cost, so response times do not tell which logins exist.
 */
export class PasswordHasher {
  readonly cost: number;
  private dummyHash: Promise<string> | undefined;

  constructor(cost: number) {
    if (!Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
      throw new RangeError(`bcrypt cost must be an integer from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}, got ${cost}`);
    }
    this.cost = cost;
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  /** False for a wrong password and for a hash that is not a bcrypt hash. */
  async verify(password: string, hash: string): Promise<boolean> {
    try {
      return await bcrypt.compare(password, hash);
    } catch {
      return false;
    }
  }

  /** Runs a full bcrypt compare against a fixed hash of this cost; always false. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(password, await this.dummy());
    return false;
  }

  /** True when `hash` was made with a lower cost than this hasher's (rehash after a good login). */
  needsRehash(hash: string): boolean {
    try {
      return bcrypt.getRounds(hash) < this.cost;
    } catch {
      return true;
    }
  }

  /**
   * Makes the dummy hash now rather than on the first unknown login, whose answer would otherwise
   * take one extra hash longer. Optional.
   */
  async warmUp(): Promise<void> {
    await this.dummy();
  }

  private dummy(): Promise<string> {
    // One per hasher, from random bytes nobody knows, so no password ever matches it.
    this.dummyHash ??= bcrypt.hash(randomBytes(32).toString('base64url'), this.cost);
    return this.dummyHash;
  }
}
