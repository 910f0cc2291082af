import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { streamIdForUser, userIdOfStream } from '../../src/domain/vault-state.js';

describe('user stream ids', () => {
  it('a user id survives the trip through its stream id', () => {
    const userId = randomUUID();
    expect(userIdOfStream(streamIdForUser(userId))).to.equal(userId);
  });

  it('a stream that is not a user vault has no user', () => {
    for (const streamId of ['checkpoint-vault-records', 'user-', 'user-not-a-uuid', `xuser-${randomUUID()}`, `${streamIdForUser(randomUUID())}-copy`]) {
      expect(userIdOfStream(streamId), streamId).to.equal(undefined);
    }
  });
});
