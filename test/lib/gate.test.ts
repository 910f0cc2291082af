import { expect } from 'chai';
import { Gate } from '../../src/lib/gate.js';

describe('a gate', () => {
  it('lets at most its limit through at once, the rest in arrival order, and frees a place on failure too', async () => {
    const gate = new Gate(2);
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const work = (n: number, fail = false) =>
      gate.run(async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(n);
        inside--;
        if (fail) throw new Error(`work ${n} failed`);
        return n;
      });
    const results = await Promise.allSettled([work(1), work(2, true), work(3), work(4), work(5)]);
    expect(most).to.equal(2);
    expect(order).to.deep.equal([1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await work(6)).to.equal(6);
  });
});
