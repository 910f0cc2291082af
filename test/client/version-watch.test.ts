import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { keepWatching, reopenDelay, type VaultVersion, type WatchOpener } from '../../src/client/version-watch.js';
import { NotLoggedIn } from '../../src/client/keeper-client.js';
import type { WatchResponse } from '../../src/gen/keeper/v1/vault.js';
import { eventually } from '../support/eventually.js';

/** A Watch call the test drives: it says what the server would, and knows whether it was cancelled. */
class FakeCall extends EventEmitter {
  cancelled = false;
  constructor(readonly sinceVersion: number, readonly renewed: boolean) {
    super();
  }
  cancel() {
    this.cancelled = true;
    this.emit('error', failure(status.CANCELLED, 'Cancelled on client'));
  }
  say(version: number) {
    this.emit('data', { version, lastModifiedAt: version * 1000 } satisfies WatchResponse);
  }
  end(code: status, details = '', retryAfterMs?: number) {
    this.emit('error', failure(code, details, retryAfterMs));
  }
}

function failure(code: status, details: string, retryAfterMs?: number): ServiceError {
  const metadata = new Metadata();
  if (retryAfterMs !== undefined) metadata.set('retry-after-ms', String(retryAfterMs));
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

/** The calls opened so far, and the watch over them. */
function watchOver(open?: WatchOpener) {
  const calls: FakeCall[] = [];
  const seen: VaultVersion[] = [];
  const errors: unknown[] = [];
  const retries: number[] = [];
  const opener: WatchOpener =
    open ??
    (async (sinceVersion, renewed) => {
      const call = new FakeCall(sinceVersion, renewed);
      calls.push(call);
      return call as unknown as ClientReadableStream<WatchResponse>;
    });
  const watch = keepWatching(opener, (version) => seen.push(version), { onError: (error) => errors.push(error), onRetry: (_error, delay) => retries.push(delay) });
  const call = (index: number) => eventually(`call ${index}`, () => calls[index], 3_000);
  return { calls, seen, errors, retries, watch, call };
}

describe('keepWatching', () => {
  it('opens again after UNAVAILABLE, from the latest version it was told, and tells each version', async () => {
    const w = watchOver();
    try {
      const first = await w.call(0);
      expect([first.sinceVersion, first.renewed]).to.deep.equal([0, false]);
      first.say(3);
      first.say(4);
      first.end(status.UNAVAILABLE, 'the server is stopping; watch again', 0);
      const second = await w.call(1);
      expect([second.sinceVersion, second.renewed]).to.deep.equal([4, false]);
      second.say(6);
      expect(w.seen.map((seen) => seen.version)).to.deep.equal([3, 4, 6]);
      expect(w.retries).to.have.length(1);
      expect(w.errors).to.deep.equal([]);
    } finally {
      w.watch.close();
    }
  });

  it('opens again after a stream that ended without a status, or could not be opened for a moment', async () => {
    let attempts = 0;
    const calls: FakeCall[] = [];
    const w = watchOver(async (since, renewed) => {
      attempts += 1;
      if (attempts === 2) throw failure(status.UNAVAILABLE, 'No connection established');
      const call = new FakeCall(since, renewed);
      calls.push(call);
      return call as unknown as ClientReadableStream<WatchResponse>;
    });
    try {
      const first = await eventually('the first call', () => calls[0]);
      first.emit('end');
      await eventually('a third attempt', () => calls[1], 3_000);
      expect(w.retries).to.have.length(2);
      expect(w.errors).to.deep.equal([]);
    } finally {
      w.watch.close();
    }
  });

  it('renews the token once on UNAUTHENTICATED, at once, and gives up on a second refusal in a row', async () => {
    const w = watchOver();
    const first = await w.call(0);
    first.say(1);
    first.end(status.UNAUTHENTICATED, 'access token expired');
    const second = await w.call(1);
    expect(second.renewed).to.equal(true);
    expect(w.retries, 'no wait before a renewed call').to.deep.equal([]);
    second.say(2);
    // Told something since: the next expiry is renewed again.
    second.end(status.UNAUTHENTICATED, 'access token expired');
    const third = await w.call(2);
    expect(third.renewed).to.equal(true);
    third.end(status.UNAUTHENTICATED, 'session ended: revoked');
    await eventually('the watch to give up', () => w.errors[0]);
    expect((w.errors[0] as ServiceError).code).to.equal(status.UNAUTHENTICATED);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(w.calls).to.have.length(3);
  });

  it('gives up at once on a status no reopening mends, and when the session is gone', async () => {
    const w = watchOver();
    (await w.call(0)).end(status.UNIMPLEMENTED, 'unknown method');
    await eventually('the watch to give up', () => w.errors[0]);
    expect((w.errors[0] as ServiceError).code).to.equal(status.UNIMPLEMENTED);

    const gone = watchOver(async () => {
      throw new NotLoggedIn('revoked');
    });
    await eventually('the watch to give up', () => gone.errors[0]);
    expect(gone.errors[0]).to.be.instanceOf(NotLoggedIn);
  });

  it('tells nothing more once closed, cancels its call, and does not open another', async () => {
    const w = watchOver();
    const first = await w.call(0);
    first.say(1);
    w.watch.close();
    expect(first.cancelled).to.equal(true);
    first.say(2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(w.seen.map((seen) => seen.version)).to.deep.equal([1]);
    expect(w.calls).to.have.length(1);
    expect([w.errors, w.retries]).to.deep.equal([[], []]);
  });

  it('stops, with the error, when the callback throws', async () => {
    const calls: FakeCall[] = [];
    const broken = new Error('the caller broke');
    const errors: unknown[] = [];
    keepWatching(
      async (since, renewed) => {
        const call = new FakeCall(since, renewed);
        calls.push(call);
        return call as unknown as ClientReadableStream<WatchResponse>;
      },
      () => {
        throw broken;
      },
      { onError: (error) => errors.push(error) },
    );
    const first = await eventually('the call', () => calls[0]);
    first.say(1);
    expect(errors).to.deep.equal([broken]);
    expect(first.cancelled).to.equal(true);
  });

  it('waits 250 ms doubling up to 10 s, jittered down to half, at least what the server asked', () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect([1, 2, 3, 4].map((failures) => Math.round(reopenDelay(failures, 0, high)))).to.deep.equal([250, 500, 1000, 2000]);
    expect([1, 2, 3, 4].map((failures) => reopenDelay(failures, 0, low))).to.deep.equal([125, 250, 500, 1000]);
    for (let failures = 1; failures <= 60; failures++) expect(reopenDelay(failures, 0)).to.be.at.most(10_000);
    expect(reopenDelay(60, 0, low)).to.equal(5_000);
    expect(reopenDelay(1, 3_000, low)).to.equal(3_000);
    expect(reopenDelay(1, 60_000, low)).to.equal(10_000);
  });
});
