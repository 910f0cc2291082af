import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { fieldSchema } from '../../../src/domain/record.js';
import { LIMITS } from '../../../src/domain/limits.js';
import {
  generateVaultKey,
  isSealed,
  MalformedSealedValue,
  MAX_SEALED_PLAINTEXT_BYTES,
  openValue,
  openValueBytes,
  PlaintextTooLarge,
  SEALED_PREFIX,
  sealedLength,
  SealedValueRejected,
  sealValue,
  wipe,
} from '../../../src/client/crypto/index.js';
import { flipChar } from './helpers.js';

describe('client crypto: sealed values', () => {
  const key = generateVaultKey();
  const recordId = randomUUID();
  const at = { recordId, field: 'password' };

  it('round-trips text, including unicode and the empty string', () => {
    for (const plaintext of ['hunter2', '', 'p\u00e4ss \u{1F510} \u5bc6\u7801', 'x'.repeat(1000)]) {
      const sealed = sealValue(key, plaintext, at);
      expect(sealed.startsWith(SEALED_PREFIX)).to.equal(true);
      expect(sealed).to.match(/^kpr1\.[A-Za-z0-9_-]+$/);
      expect(sealed).to.have.length(sealedLength(Buffer.byteLength(plaintext)));
      expect(openValue(key, sealed, at)).to.equal(plaintext);
    }
  });

  it('round-trips bytes (e.g. an image)', () => {
    const bytes = Buffer.from([0, 255, 1, 128, 0xc3, 0x28]);
    const ctx = { recordId, field: 'img-1', purpose: 'image' as const };
    expect(openValueBytes(key, sealValue(key, bytes, ctx), ctx).equals(bytes)).to.equal(true);
  });

  it('uses a fresh nonce: sealing the same value twice gives different output', () => {
    const a = sealValue(key, 'same', at);
    const b = sealValue(key, 'same', at);
    expect(a).to.not.equal(b);
    expect(a.slice(0, SEALED_PREFIX.length + 16)).to.not.equal(b.slice(0, SEALED_PREFIX.length + 16));
  });

  it('recognises sealed values without a key', () => {
    expect(isSealed(sealValue(key, 'secret', at))).to.equal(true);
    expect(isSealed(sealValue(key, '', at))).to.equal(true);
    for (const value of ['secret', '', 'kpr1.', 'kpr1.abc', 'kpr2.' + 'A'.repeat(40), 'kpr1.' + 'A'.repeat(40) + '=', 'kpr1.' + 'A'.repeat(37), 42, null]) {
      expect(isSealed(value), String(value)).to.equal(false);
    }
  });

  it('does not open when moved to another record, field or purpose', () => {
    const sealed = sealValue(key, 'hunter2', at);
    const moves = [
      { recordId: randomUUID(), field: 'password' },
      { recordId, field: 'username' },
      { recordId, field: 'password', purpose: 'image' as const },
      { recordId, purpose: 'name' as const },
    ];
    for (const ctx of moves) expect(() => openValue(key, sealed, ctx), JSON.stringify(ctx)).to.throw(SealedValueRejected);
    // The domain's own normalisation (lower-case UUIDs, trimmed field names) is not a move.
    expect(openValue(key, sealed, { recordId: recordId.toUpperCase(), field: ' password ' })).to.equal('hunter2');
  });

  it('does not open under another key', () => {
    const sealed = sealValue(key, 'hunter2', at);
    expect(() => openValue(generateVaultKey(), sealed, at)).to.throw(SealedValueRejected);
  });

  it('detects tampering anywhere (nonce, ciphertext, tag, truncation)', () => {
    const sealed = sealValue(key, 'a value long enough to tamper with', at);
    for (const index of [SEALED_PREFIX.length, SEALED_PREFIX.length + 20, sealed.length - 2]) {
      expect(() => openValue(key, flipChar(sealed, index), at)).to.throw(SealedValueRejected);
    }
    const blob = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    const truncated = SEALED_PREFIX + blob.subarray(0, -1).toString('base64url'); // a byte of the tag lost
    const extended = SEALED_PREFIX + Buffer.concat([blob, Buffer.from([0])]).toString('base64url');
    expect(() => openValue(key, truncated, at)).to.throw(SealedValueRejected);
    expect(() => openValue(key, extended, at)).to.throw(SealedValueRejected);
    // Text cut at any character is either refused as malformed or fails authentication.
    for (let cut = 1; cut < 8; cut++) {
      expect(() => openValue(key, sealed.slice(0, -cut), at)).to.throw(/sealed value/);
    }
    const error = (() => {
      try {
        openValue(key, truncated, at);
      } catch (e) {
        return e as SealedValueRejected;
      }
    })();
    expect(error?.code).to.equal('sealed_value_rejected');
    expect(error?.message).to.not.include('a value long');
  });

  it('throws MalformedSealedValue for something that is not sealed', () => {
    for (const value of ['hunter2', 'kpr1.', 'kpr1.!!!!', 'kpr1.AAAA']) {
      expect(() => openValue(key, value, at), value).to.throw(MalformedSealedValue);
    }
  });

  it('keeps the largest allowed plaintext within the domain limit, and refuses larger', () => {
    expect(MAX_SEALED_PLAINTEXT_BYTES).to.equal(48 * 1024 - 32);
    const largest = 'z'.repeat(MAX_SEALED_PLAINTEXT_BYTES);
    const sealed = sealValue(key, largest, at);
    expect(sealed.length).to.be.at.most(LIMITS.fieldValueMax);
    expect(sealed.length).to.equal(LIMITS.fieldValueMax); // exactly fills it
    expect(fieldSchema.safeParse({ name: 'password', value: sealed, sensitive: true }).success).to.equal(true);
    expect(isSealed(sealed)).to.equal(true);
    expect(openValue(key, sealed, at)).to.equal(largest);

    expect(() => sealValue(key, largest + 'z', at)).to.throw(PlaintextTooLarge, /too large to seal: 49121 bytes, at most 49120 bytes/);
    // The limit is in UTF-8 bytes, not characters.
    expect(() => sealValue(key, '\u00e9'.repeat(MAX_SEALED_PLAINTEXT_BYTES / 2 + 1), at)).to.throw(PlaintextTooLarge);
    expect(() => sealValue(key, Buffer.alloc(48 * 1024), at)).to.throw(PlaintextTooLarge);
  });

  it('needs a real key and a usable context', () => {
    expect(() => sealValue(Buffer.alloc(16, 1), 'x', at)).to.throw(TypeError, /32 bytes/);
    expect(() => sealValue(key, 'x', { recordId })).to.throw(TypeError, /field name/);
    expect(() => sealValue(key, 'x', { recordId, field: '   ' })).to.throw(TypeError, /field name/);
    expect(() => sealValue(key, 'x', { recordId: '', field: 'f' })).to.throw(TypeError, /recordId/);
    expect(sealValue(key, 'My bank', { recordId, purpose: 'name' })).to.satisfy(isSealed);
  });

  it('refuses to use a wiped key (a locked vault never encrypts under zeros)', () => {
    const temporary = generateVaultKey();
    const sealed = sealValue(temporary, 'x', at);
    wipe(temporary);
    expect(temporary.every((byte) => byte === 0)).to.equal(true);
    expect(() => sealValue(temporary, 'x', at)).to.throw(TypeError, /wiped/);
    expect(() => openValue(temporary, sealed, at)).to.throw(TypeError, /wiped/);
  });
});
