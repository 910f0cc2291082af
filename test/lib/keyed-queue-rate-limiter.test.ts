import { expect } from 'chai';
import { KeyedQueue } from '../../src/lib/keyed-queue.js';
import { RateLimiter } from '../../src/lib/rate-limiter.js';

describe('KeyedQueue', () => {
  it('runs one key’s work in order, one at a time, while other keys go on', async () => {
    const queue = new KeyedQueue<string>(10);
    const log: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    queue.run('a', async () => {
      log.push('a1 start');
      await held;
      log.push('a1 end');
    });
    queue.run('a', async () => void log.push('a2'));
    queue.run('b', async () => void log.push('b1'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log).to.deep.equal(['a1 start', 'b1']);
    release();
    await queue.idle();
    expect(log).to.deep.equal(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('refuses work beyond its depth for a key, and goes on after a failure', async () => {
    const queue = new KeyedQueue<number>(2);
    let ran = 0;
    expect(queue.run(1, async () => Promise.reject(new Error('boom')))).to.equal(true);
    expect(queue.run(1, async () => void ran++)).to.equal(true);
    expect(queue.run(1, async () => void ran++)).to.equal(false);
    await queue.idle();
    expect(ran).to.equal(1);
    expect(queue.run(1, async () => void ran++)).to.equal(true);
    await queue.idle();
    expect(ran).to.equal(2);
  });
});

describe('RateLimiter', () => {
  it('lets a minute’s worth through at once, then one as each share of the minute passes, per key', () => {
    let now = 0;
    const limiter = new RateLimiter<string>(6, 100, () => now);
    for (let i = 0; i < 6; i++) expect(limiter.take('a')).to.equal(0);
    expect(limiter.take('a')).to.equal(10_000);
    expect(limiter.take('b')).to.equal(0);
    now += 10_000;
    expect(limiter.take('a')).to.equal(0);
    expect(limiter.take('a')).to.be.greaterThan(0);
  });
});
