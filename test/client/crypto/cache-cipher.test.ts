import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  cacheFileKind,
  checksumUnwrap,
  checksumWrap,
  CorruptCache,
  decryptCache,
  encryptCache,
  generateVaultKey,
} from '../../../src/client/crypto/index.js';

const CONTEXT = 'user:5b0f3a52-6a55-4f0e-9c3e-2d1b8f0a7c11@https://keeper.example:8443';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(CorruptCache);
    return (error as CorruptCache).reason;
  }
  throw new Error('expected CorruptCache');
}

function flipByte(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe('client crypto: local cache file', () => {
  const key = generateVaultKey();

  describe('encrypted', () => {
    it('round-trips strings and buffers, with a small header', () => {
      const text = JSON.stringify({ records: [{ id: 1, name: 'bank \u{1F3E6}' }] });
      const file = encryptCache(key, text, CONTEXT);
      expect(file.subarray(0, 5).equals(Buffer.from([0x4b, 0x50, 0x52, 0x43, 0x01]))).to.equal(true); // "KPRC" v1
      expect(file.length).to.equal(5 + 12 + Buffer.byteLength(text) + 16);
      expect(file.includes(Buffer.from('bank'))).to.equal(false);
      expect(cacheFileKind(file)).to.equal('encrypted');
      expect(decryptCache(key, file, CONTEXT).toString('utf8')).to.equal(text);
      expect(decryptCache(key, encryptCache(key, Buffer.alloc(0), CONTEXT), CONTEXT)).to.have.length(0);
    });

    it('handles tens of MB', function () {
      this.timeout(20_000);
      const big = randomBytes(24 * 1024 * 1024);
      const file = encryptCache(key, big, CONTEXT);
      expect(decryptCache(key, file, CONTEXT).equals(big)).to.equal(true);
    });

    it('uses a fresh nonce each time', () => {
      const a = encryptCache(key, 'same', CONTEXT);
      const b = encryptCache(key, 'same', CONTEXT);
      expect(a.equals(b)).to.equal(false);
    });

    it('detects tampering and truncation', () => {
      const file = encryptCache(key, 'x'.repeat(1000), CONTEXT);
      for (const index of [5, 5 + 12, 500, file.length - 1]) expect(reasonOf(() => decryptCache(key, flipByte(file, index), CONTEXT))).to.equal('rejected');
      expect(reasonOf(() => decryptCache(key, file.subarray(0, file.length - 1), CONTEXT))).to.equal('rejected');
      expect(reasonOf(() => decryptCache(key, file.subarray(0, 500), CONTEXT))).to.equal('rejected');
      expect(reasonOf(() => decryptCache(key, Buffer.concat([file, Buffer.from([0])]), CONTEXT))).to.equal('rejected');
      expect(reasonOf(() => decryptCache(key, file.subarray(0, 20), CONTEXT))).to.equal('truncated');
      expect(reasonOf(() => decryptCache(key, file.subarray(0, 3), CONTEXT))).to.equal('not_a_cache');
      expect(reasonOf(() => decryptCache(key, flipByte(file, 0), CONTEXT))).to.equal('not_a_cache');
      expect(reasonOf(() => decryptCache(key, flipByte(file, 4), CONTEXT))).to.equal('unsupported_version');
    });

    it('refuses another key or another context (user/server)', () => {
      const file = encryptCache(key, 'data', CONTEXT);
      expect(reasonOf(() => decryptCache(generateVaultKey(), file, CONTEXT))).to.equal('rejected');
      expect(reasonOf(() => decryptCache(key, file, CONTEXT.replace('8443', '8444')))).to.equal('rejected');
    });

    it('does not take a checksummed file for an encrypted one', () => {
      expect(reasonOf(() => decryptCache(key, checksumWrap('data', CONTEXT), CONTEXT))).to.equal('not_a_cache');
    });
  });

  describe('checksummed (encryption off)', () => {
    it('round-trips, with header "KPRS" v1 and a SHA-256', () => {
      const file = checksumWrap('plain data', CONTEXT);
      expect(file.subarray(0, 5).toString('latin1')).to.equal('KPRS\u0001');
      expect(file).to.have.length(5 + 32 + 10);
      expect(cacheFileKind(file)).to.equal('checksummed');
      expect(checksumUnwrap(file, CONTEXT).toString()).to.equal('plain data');
      expect(checksumUnwrap(checksumWrap(Buffer.alloc(0), CONTEXT), CONTEXT)).to.have.length(0);
    });

    it('detects corruption and truncation, and another context', () => {
      const file = checksumWrap('x'.repeat(100), CONTEXT);
      for (const index of [5, 36, 37, file.length - 1]) expect(reasonOf(() => checksumUnwrap(flipByte(file, index), CONTEXT))).to.equal('checksum_mismatch');
      expect(reasonOf(() => checksumUnwrap(file.subarray(0, file.length - 1), CONTEXT))).to.equal('checksum_mismatch');
      expect(reasonOf(() => checksumUnwrap(file.subarray(0, 30), CONTEXT))).to.equal('truncated');
      expect(reasonOf(() => checksumUnwrap(file, 'another user'))).to.equal('checksum_mismatch');
      expect(reasonOf(() => checksumUnwrap(Buffer.from('{"records":[]}'), CONTEXT))).to.equal('not_a_cache');
      expect(cacheFileKind(Buffer.from('{"records":[]}'))).to.equal('unknown');
    });
  });
});
