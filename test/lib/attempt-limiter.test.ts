import { expect } from 'chai';
import { AttemptLimiter } from '../../src/lib/attempt-limiter.js';

describe('an attempt limiter', () => {
  const limits = { free: 3, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000, maxKeys: 3 };

  it('lets a few failures go free, then doubles the wait up to a cap; a success clears the key', () => {
    let now = 0;
    const limiter = new AttemptLimiter(limits, () => now);
    for (let i = 0; i < 3; i++) limiter.failed('ann');
    expect(limiter.retryAfter('ann')).to.equal(0);
    limiter.failed('ann');
    expect(limiter.retryAfter('ann')).to.equal(1_000);
    limiter.failed('ann');
    expect(limiter.retryAfter('ann')).to.equal(2_000);
    for (let i = 0; i < 5; i++) limiter.failed('ann');
    expect(limiter.retryAfter('ann')).to.equal(8_000);
    expect(limiter.retryAfter('bob')).to.equal(0);
    now += 3_000;
    expect(limiter.retryAfter('ann')).to.equal(5_000);
    limiter.succeeded('ann');
    expect(limiter.retryAfter('ann')).to.equal(0);
  });

  it('forgets failures after the window, and keeps at most maxKeys keys', () => {
    let now = 0;
    const limiter = new AttemptLimiter(limits, () => now);
    for (let i = 0; i < 4; i++) limiter.failed('ann');
    now += 61_000;
    expect(limiter.retryAfter('ann')).to.equal(0);
    for (const key of ['a', 'b', 'c']) for (let i = 0; i < 4; i++) limiter.failed(key);
    limiter.failed('d');
    expect(limiter.retryAfter('a')).to.equal(0);
    expect(limiter.retryAfter('c')).to.be.greaterThan(0);
  });
});
