import { argon2d, argon2id } from 'hash-wasm';
import { KeeperFailure } from '../failures.js';

/**
 * Argon2 for kdbxweb, which brings none of its own: hash-wasm's WebAssembly build (no native
 * module, nothing to compile at install). KDBX 4 files use Argon2d (KeePass's default) or
 * Argon2id (KeePassXC's), version 1.3; `memory` arrives in KiB.
 */
export async function kdbxArgon2(
  password: ArrayBuffer,
  salt: ArrayBuffer,
  memory: number,
  iterations: number,
  length: number,
  parallelism: number,
  type: number,
  version: number,
): Promise<ArrayBuffer> {
  if (version !== 0x13) throw new KeeperFailure('invalid', `the file uses Argon2 version ${version.toString(16)}, which Keeper cannot read (only 1.3, the one KeePass writes)`);
  const options = { password: new Uint8Array(password), salt: new Uint8Array(salt), memorySize: memory, iterations, hashLength: length, parallelism, outputType: 'binary' as const };
  const hash = type === 2 ? await argon2id(options) : await argon2d(options);
  return hash.buffer.slice(hash.byteOffset, hash.byteOffset + hash.byteLength) as ArrayBuffer;
}
