import { expect } from 'chai';
import { PollingLoop } from '../../src/lib/polling-loop.js';

describe('PollingLoop', function () {
  this.timeout(10_000);
  it('waits longer after each failed pass in a row, so an outage is not hammered, and polls at its interval again once a pass works', async () => {
    let calls = 0;
    let failing = true;
    const loop = new PollingLoop(
      async () => {
        calls++;
        if (failing) throw new Error('the database is down');
        return 0;
      },
      10,
    );
    loop.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 600));
      // Waits of 10, 20, 40, 80, 160, 320 ms: about 6 passes in 600 ms, where a fixed 10 ms interval makes 60.
      expect(calls).to.be.within(2, 15);
      failing = false;
      await new Promise((resolve) => setTimeout(resolve, 700));
      const afterRecovery = calls;
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Back at the 10 ms interval: many passes in 300 ms (a loaded machine makes fewer, never as few as backing off would).
      expect(calls - afterRecovery).to.be.greaterThan(5);
    } finally {
      await loop.stop();
    }
  });
});
