import { expect } from 'chai';
import { GroupCommit } from '../../src/server/eventstore/group-commit.js';

interface Req {
  key: string;
  weight: number;
  fail?: boolean;
}

/** A group commit whose writes the test finishes by hand, recording every group written. */
function harness(maxInFlight: number, maxWeight = 100) {
  const groups: string[][] = [];
  const pending: Array<() => void> = [];
  const commit = new GroupCommit<Req, string>({
    maxInFlight,
    maxWeight,
    weightOf: (request) => request.weight,
    keyOf: (request) => request.key,
    write(group) {
      groups.push(group.map((request) => request.key));
      return new Promise((resolve) => {
        pending.push(() =>
          resolve(group.map((request) => (request.fail ? { status: 'rejected', reason: new Error(`${request.key} failed`) } : { status: 'fulfilled', value: `wrote ${request.key}` }))),
        );
      });
    },
  });
  const finishNext = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { commit, groups, pending, finishNext };
}

describe('GroupCommit', function () {
  it('writes a request at once, alone, while fewer than maxInFlight writes run', async function () {
    const { commit, groups, finishNext } = harness(2);
    const a = commit.submit({ key: 'a', weight: 1 });
    const b = commit.submit({ key: 'b', weight: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(groups).to.deep.equal([['a'], ['b']]);
    await finishNext();
    await finishNext();
    expect(await Promise.all([a, b])).to.deep.equal(['wrote a', 'wrote b']);
  });

  it('gathers the requests that arrive while maxInFlight writes run into the next write, in order', async function () {
    const { commit, groups, finishNext } = harness(1);
    const all = ['a', 'b', 'c', 'd'].map((key) => commit.submit({ key, weight: 1 }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(groups).to.deep.equal([['a']]);
    await finishNext();
    expect(groups).to.deep.equal([['a'], ['b', 'c', 'd']]);
    await finishNext();
    expect(await Promise.all(all)).to.deep.equal(['wrote a', 'wrote b', 'wrote c', 'wrote d']);
  });

  it('keeps one key out of a second group until its write is done, and never twice in one group', async function () {
    const { commit, groups, finishNext } = harness(2);
    const first = commit.submit({ key: 's', weight: 1 });
    const second = commit.submit({ key: 's', weight: 1 });
    const third = commit.submit({ key: 's', weight: 1 });
    const other = commit.submit({ key: 't', weight: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    // Two writes may run, but `s` is being written: only `t` joins.
    expect(groups).to.deep.equal([['s'], ['t']]);
    await finishNext();
    expect(groups).to.deep.equal([['s'], ['t'], ['s']]);
    await finishNext();
    await finishNext();
    expect(groups).to.deep.equal([['s'], ['t'], ['s'], ['s']]);
    await finishNext();
    expect(await Promise.all([first, second, third, other])).to.deep.equal(['wrote s', 'wrote s', 'wrote s', 'wrote t']);
  });

  it('closes a group at maxWeight and writes a heavier request alone', async function () {
    const { commit, groups, finishNext } = harness(1, 10);
    const requests = [
      { key: 'first', weight: 1 },
      { key: 'a', weight: 4 },
      { key: 'b', weight: 5 },
      { key: 'c', weight: 4 },
      { key: 'huge', weight: 50 },
      { key: 'd', weight: 1 },
    ].map((request) => commit.submit(request));
    await finishNext();
    // a + b fit (9); c would make 13, so it waits; d still fits; huge waits too.
    expect(groups).to.deep.equal([['first'], ['a', 'b', 'd']]);
    await finishNext();
    expect(groups.at(-1)).to.deep.equal(['c']);
    await finishNext();
    expect(groups.at(-1)).to.deep.equal(['huge']);
    await finishNext();
    expect(await Promise.all(requests)).to.have.length(6);
  });

  it('gives each request its own outcome, and a failed write to every request of its group only', async function () {
    const groups: string[][] = [];
    let calls = 0;
    const commit = new GroupCommit<Req, string>({
      maxInFlight: 1,
      maxWeight: 100,
      weightOf: () => 1,
      keyOf: (request) => request.key,
      async write(group) {
        groups.push(group.map((request) => request.key));
        calls++;
        if (calls === 2) throw new Error('the database went away');
        return group.map((request) => (request.fail ? { status: 'rejected', reason: new Error(`${request.key} failed`) } : { status: 'fulfilled', value: request.key }));
      },
    });
    const results = await Promise.allSettled([
      commit.submit({ key: 'a', weight: 1 }),
      commit.submit({ key: 'b', weight: 1 }),
      commit.submit({ key: 'c', weight: 1 }),
    ]);
    expect(groups).to.deep.equal([['a'], ['b', 'c']]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).to.deep.equal(['a', 'the database went away', 'the database went away']);
    const mixed = await Promise.allSettled([commit.submit({ key: 'd', weight: 1, fail: true }), commit.submit({ key: 'e', weight: 1 })]);
    expect(mixed.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).to.deep.equal(['d failed', 'e']);
  });

  it('refuses a maxInFlight below one', function () {
    expect(() => new GroupCommit({ maxInFlight: 0, maxWeight: 1, weightOf: () => 1, keyOf: () => '', write: async () => [] })).to.throw(/maxInFlight/);
  });
});
