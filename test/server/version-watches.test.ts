import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { InProcessVersionNotifier } from '../../src/server/watch/in-process-notifier.js';
import type { VersionSubscriber } from '../../src/server/watch/port.js';
import { VersionWatches, WatchesDrained, type VersionInfo } from '../../src/server/watch/version-watches.js';
import { eventually } from '../support/eventually.js';

/** Users' versions as the store would answer them, with a count of reads and an optional hold on them. */
class Versions {
  readonly current = new Map<string, number>();
  reads = 0;
  failing: Error | undefined;
  private held: Array<() => void> | undefined;

  read = async (userId: string): Promise<VersionInfo> => {
    this.reads += 1;
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    if (this.failing) throw this.failing;
    const version = this.current.get(userId) ?? 0;
    return { version, lastModifiedAt: version * 1000 };
  };

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const resolve of held) resolve();
  }
}

interface Opened {
  sent: number[];
  stop: AbortController;
  done: Promise<unknown>;
}

function open(watches: VersionWatches, userId: string, since = 0, send?: (info: VersionInfo) => Promise<void>): Opened {
  const sent: number[] = [];
  const stop = new AbortController();
  const done = watches
    .follow(
      userId,
      since,
      async (info) => {
        await send?.(info);
        sent.push(info.version);
      },
      stop.signal,
    )
    .then(
      () => 'ended',
      (error: unknown) => error,
    );
  return { sent, stop, done };
}

const sentExactly = (opened: Opened, versions: number[]) => () => (JSON.stringify(opened.sent) === JSON.stringify(versions) ? true : undefined);

describe('VersionWatches', () => {
  let notifier: InProcessVersionNotifier;
  let versions: Versions;
  let watches: VersionWatches;
  beforeEach(() => {
    notifier = new InProcessVersionNotifier();
    versions = new Versions();
    watches = new VersionWatches(notifier, versions.read);
  });
  afterEach(() => watches.drain());

  it('sends the current version at once, then each newer one, and nothing while the version stays', async () => {
    const userId = randomUUID();
    versions.current.set(userId, 3);
    const watch = open(watches, userId);
    await eventually('the current version', sentExactly(watch, [3]));
    versions.current.set(userId, 4);
    notifier.publish({ userId, version: 4 });
    await eventually('the new version', sentExactly(watch, [3, 4]));
  });

  it('reads every followed user again when changes may have been missed, and sends only what moved', async () => {
    let subscriber: VersionSubscriber | undefined;
    const own = new VersionWatches({ subscribe: (given) => ((subscriber = given), () => {}) }, versions.read);
    try {
      const [still, moved] = [randomUUID(), randomUUID()];
      versions.current.set(still, 1);
      versions.current.set(moved, 1);
      const stillWatch = open(own, still);
      const movedWatch = open(own, moved);
      await eventually('the first messages', () => (stillWatch.sent.length && movedWatch.sent.length ? true : undefined));
      // A change whose notification never came.
      versions.current.set(moved, 2);
      const before = versions.reads;
      subscriber!.missed();
      await eventually('the missed change', sentExactly(movedWatch, [1, 2]));
      expect(versions.reads - before).to.equal(2);
      expect(stillWatch.sent).to.deep.equal([1]);
    } finally {
      own.drain();
    }
  });

  it('reads once for all the watchers of a user, and once more for every notification that came during a read', async () => {
    const userId = randomUUID();
    versions.current.set(userId, 1);
    const watchers = Array.from({ length: 5 }, () => open(watches, userId));
    for (const watch of watchers) await eventually('the first message', sentExactly(watch, [1]));
    const before = versions.reads;
    versions.hold();
    versions.current.set(userId, 2);
    notifier.publish({ userId, version: 2 });
    for (let version = 3; version <= 10; version++) {
      versions.current.set(userId, version);
      notifier.publish({ userId, version });
    }
    versions.release();
    for (const watch of watchers) await eventually('the latest version', () => (watch.sent.at(-1) === 10 ? true : undefined));
    expect(versions.reads - before).to.equal(2);
    for (const watch of watchers) expect(watch.sent).to.deep.equal([1, 10]);
  });

  it('reads nothing for a notification of a version it already read, nor for a user nobody here watches', async () => {
    const userId = randomUUID();
    versions.current.set(userId, 5);
    const watch = open(watches, userId);
    await eventually('the first message', sentExactly(watch, [5]));
    const before = versions.reads;
    notifier.publish({ userId, version: 5 });
    notifier.publish({ userId, version: 4 });
    notifier.publish({ userId: randomUUID(), version: 9 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(versions.reads).to.equal(before);
  });

  it("always sends the first message, then only versions above the caller's since_version", async () => {
    const userId = randomUUID();
    versions.current.set(userId, 2);
    const watch = open(watches, userId, 4);
    await eventually('the first message', sentExactly(watch, [2]));
    for (const version of [3, 4, 5]) {
      versions.current.set(userId, version);
      notifier.publish({ userId, version });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually('version 5', sentExactly(watch, [2, 5]));
  });

  it('sends a slow caller the latest version when it can take one, not every version in between', async () => {
    const userId = randomUUID();
    let unblock: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    let first = true;
    const watch = open(watches, userId, 0, async () => {
      if (!first) await blocked;
      first = false;
    });
    await eventually('the first message', sentExactly(watch, [0]));
    for (let version = 1; version <= 6; version++) {
      versions.current.set(userId, version);
      notifier.publish({ userId, version });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    unblock();
    await eventually('the latest version', () => (watch.sent.at(-1) === 6 ? true : undefined));
    expect(watch.sent.length).to.be.lessThan(4);
  });

  it("ends a user's watches with the read's error, leaving other users' alone", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const aliceWatch = open(watches, alice);
    const bobWatch = open(watches, bob);
    await eventually('the first messages', () => (aliceWatch.sent.length && bobWatch.sent.length ? true : undefined));
    const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
    versions.failing = lost;
    versions.current.set(alice, 1);
    notifier.publish({ userId: alice, version: 1 });
    expect(await aliceWatch.done).to.equal(lost);
    versions.failing = undefined;
    versions.current.set(bob, 1);
    notifier.publish({ userId: bob, version: 1 });
    await eventually("bob's change", sentExactly(bobWatch, [0, 1]));
    expect(watches.size).to.equal(1);
  });

  it('lets a cancelled call go, and follows nobody once the last one went', async () => {
    const userId = randomUUID();
    const watch = open(watches, userId);
    await eventually('the first message', sentExactly(watch, [0]));
    watch.stop.abort();
    expect(await watch.done).to.equal('ended');
    expect(watches.size).to.equal(0);
    const before = versions.reads;
    notifier.publish({ userId, version: 1 });
    expect(versions.reads).to.equal(before);
  });

  it('ends every watch when drained, and refuses new ones', async () => {
    const first = open(watches, randomUUID());
    const second = open(watches, randomUUID());
    await eventually('the first messages', () => (first.sent.length && second.sent.length ? true : undefined));
    watches.drain();
    expect(await first.done).to.be.instanceOf(WatchesDrained);
    expect(await second.done).to.be.instanceOf(WatchesDrained);
    expect(await open(watches, randomUUID()).done).to.be.instanceOf(WatchesDrained);
    expect(watches.size).to.equal(0);
  });
});
