import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { describeFailure } from '../../../src/client/cli/errors.js';
import { failureOf, FAILURE_KINDS, KeeperFailure, transportReason } from '../../../src/client/core/failures.js';
import { NotLoggedIn } from '../../../src/client/keeper-client.js';
import { loginAgain, describe as tuiSentence } from '../../../src/client/tui/failures.js';
import { WrongSecretWord } from '../../../src/client/crypto/index.js';
import { VaultLocked } from '../../../src/client/sync/key-ring.js';
import { DomainError } from '../../../src/domain/errors.js';

function grpcError(code: status, details: string, trailers: Record<string, string> = {}): Error {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

// Words that belong to one face: a command to type, a key to press, a page to open.
const FACE_WORDS = /\bkeeper [a-z]|`|\bpress\b|\bclick\b|\bF\d\b|\bCtrl\b/;

describe('client core failures', () => {
  it("says why a connection failed without grpc-js's wrapping", () => {
    const failure = failureOf(grpcError(status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:7070. Resolution note: '), 'vault:7070');
    expect(failure.kind).to.equal('offline');
    expect(failure.message).to.contain('(connect ECONNREFUSED 127.0.0.1:7070)');
    expect(failure.message).to.not.match(/Resolution note|Last error|No connection established/);
    expect(transportReason('No connection established')).to.equal('No connection established');
    expect(transportReason('')).to.equal('no connection');
  });

  const cases: Array<[unknown, (typeof FAILURE_KINDS)[number]]> = [
    [new NotLoggedIn(), 'not-logged-in'],
    [new NotLoggedIn('logged out'), 'session-ended'],
    [grpcError(status.UNAUTHENTICATED, 'session ended: it was revoked from another session'), 'session-ended'],
    [grpcError(status.UNAUTHENTICATED, 'wrong login or password'), 'refused'],
    [new WrongSecretWord(), 'wrong-secret'],
    [new VaultLocked('read it'), 'locked'],
    [new DomainError('record_not_found', 'record r does not exist'), 'not-found'],
    [grpcError(status.UNAVAILABLE, 'No connection established'), 'offline'],
    [grpcError(status.UNAVAILABLE, 'the server lost its database connection for a moment; retrying the call is safe', { 'retry-after-ms': '500' }), 'unavailable'],
    [grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'offline'],
    [grpcError(status.RESOURCE_EXHAUSTED, 'too many failed logins; wait 2 s', { 'retry-after-ms': '2000' }), 'throttled'],
    [grpcError(status.RESOURCE_EXHAUSTED, 'record r already has 50 images; at most 50 are allowed'), 'too-large'],
    [grpcError(status.FAILED_PRECONDITION, 'record r was deleted'), 'conflict'],
    [grpcError(status.INTERNAL, 'internal server error'), 'failed'],
  ];

  for (const [error, kind] of cases) {
    it(`reads ${(error as Error).message} as ${kind}, in a sentence no face owns`, () => {
      const failure = failureOf(error, 'vault:7070');
      expect(failure).to.be.instanceOf(KeeperFailure);
      expect(failure.kind).to.equal(kind);
      expect(failure.message).to.be.a('string').and.not.equal('');
      expect(failure.message).to.not.match(FACE_WORDS);
    });
  }

  it('keeps why a session ended, for each face to say in its own words', () => {
    const ended = new NotLoggedIn('it was revoked from another session');
    expect(failureOf(ended).detail.why).to.equal('it was revoked from another session');
    expect(describeFailure(ended).message).to.equal('session ended (it was revoked from another session): run `keeper login` again');
    expect(loginAgain(ended)).to.equal('session ended: log in again (it was revoked from another session)');
    expect(describeFailure(new NotLoggedIn()).message).to.equal('not logged in: run `keeper login` first');
    expect(tuiSentence(new NotLoggedIn(), 'vault:7070')).to.equal('not logged in: log in first');
  });

  it('keeps how long the server asked to wait', () => {
    const failure = failureOf(grpcError(status.RESOURCE_EXHAUSTED, 'too many failed logins; wait 2 s', { 'retry-after-ms': '2000' }));
    expect(failure.detail.retryAfterMs).to.equal(2000);
  });
});
