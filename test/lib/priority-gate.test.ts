import { expect } from 'chai';
import { PriorityGate } from '../../src/lib/priority-gate.js';

describe('a priority gate', () => {
  it('lets waiting data work go before bulk work that came earlier, and caps bulk work', async () => {
    const gate = new PriorityGate(2, 1);
    const order: string[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const hold = (name: string) => gate.run('data', async () => {
      order.push(`${name} start`);
      await blocked;
    });
    const quick = (name: string, priority: 'data' | 'bulk') => gate.run(priority, async () => {
      order.push(name);
      await new Promise((resolve) => setTimeout(resolve, 2));
    });
    const running = [hold('a'), hold('b')];
    const queued = [quick('image 1', 'bulk'), quick('image 2', 'bulk'), quick('sync 1', 'data'), quick('sync 2', 'data')];
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(order).to.deep.equal(['a start', 'b start']);
    release();
    await Promise.all([...running, ...queued]);
    expect(order.slice(2, 4)).to.deep.equal(['sync 1', 'sync 2']);
    expect(order.slice(4)).to.deep.equal(['image 1', 'image 2']);
  });

  it('never runs two bulk works at once with a bulk limit of one', async () => {
    const gate = new PriorityGate(4, 1);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        gate.run('bulk', async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inside--;
        }),
      ),
    );
    expect(most).to.equal(1);
  });
});
