import { expect } from 'chai';
import { keepFieldKinds } from '../../../src/client/core/field-kinds.js';

describe('keepFieldKinds', () => {
  const current = [{ name: 'otp', kind: 'totp' as const }, { name: 'user' }];

  it('gives a field set again without a kind the kind it had, sensitive for a one-time-code secret', () => {
    expect(keepFieldKinds(current, [{ name: 'otp', value: 'GEZDGNBVGY3TQOJQ', sensitive: false }])).to.deep.equal([{ name: 'otp', value: 'GEZDGNBVGY3TQOJQ', sensitive: true, kind: 'totp' }]);
  });

  it('keeps a kind the caller gave, and leaves text and new fields as they are', () => {
    expect(keepFieldKinds(current, [{ name: 'otp', value: 'plain', sensitive: false, kind: 'text' }])).to.deep.equal([{ name: 'otp', value: 'plain', sensitive: false, kind: 'text' }]);
    expect(keepFieldKinds(current, [{ name: 'user', value: 'me', sensitive: false }])).to.deep.equal([{ name: 'user', value: 'me', sensitive: false }]);
    expect(keepFieldKinds(current, [{ name: 'new', value: 'x', sensitive: true }])).to.deep.equal([{ name: 'new', value: 'x', sensitive: true }]);
  });
});
