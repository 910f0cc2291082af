import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { z } from 'zod';
import { describeFailure } from '../../src/client/cli/errors.js';
import { CliError, EXIT } from '../../src/client/cli/exit-codes.js';
import { ConfigError } from '../../src/config/env.js';
import { NotLoggedIn } from '../../src/client/keeper-client.js';
import { KeeperCryptoError, WrongSecretWord } from '../../src/client/crypto/index.js';
import { VaultLocked } from '../../src/client/sync/key-ring.js';
import { ImageTransferError } from '../../src/client/images/image-transfer.js';
import { DomainError } from '../../src/domain/errors.js';

function grpcError(code: status, details: string, trailers: Record<string, string> = {}): Error {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: something`), { code });
}

// Every kind of failure the CLI can meet, and the code README promises for it.
const CASES: Array<[string, unknown, number]> = [
  ['a sentence the CLI phrased itself', new CliError('no record matches "x"', EXIT.notFound), EXIT.notFound],
  ['a bad setting', new ConfigError('KEEPER_SERVER: must be host:port'), EXIT.usage],
  ['bad input caught by a schema', z.string().min(5).safeParse('x').error, EXIT.usage],
  ['no session', new NotLoggedIn(), EXIT.unauthenticated],
  ['a wrong secret word', new WrongSecretWord(), EXIT.unauthenticated],
  ['a locked vault', new VaultLocked('read it'), EXIT.unauthenticated],
  ['a secret word that cannot be used', new KeeperCryptoError('invalid_secret_word', 'the secret word must not be empty'), EXIT.usage],
  ['a value too large to seal', new KeeperCryptoError('plaintext_too_large', 'the value is too large to seal'), EXIT.tooLarge],
  ['a damaged local cache', new KeeperCryptoError('corrupt_cache', 'the local copy is damaged'), EXIT.failure],
  ['a record that is not there', new DomainError('record_not_found', 'record r does not exist'), EXIT.notFound],
  ['an image that is not there', new DomainError('image_not_found', 'image i does not exist'), EXIT.notFound],
  ['a record id taken', new DomainError('record_exists', 'record r already exists'), EXIT.conflict],
  ['an image id taken', new DomainError('image_exists', 'image i already exists'), EXIT.conflict],
  ['a record deleted meanwhile', new DomainError('record_deleted', 'record r was deleted'), EXIT.conflict],
  ['the vault key changed elsewhere', new DomainError('key_changed', 'the vault key changed'), EXIT.conflict],
  ['too many fields', new DomainError('limit_exceeded', 'record r would have 101 fields; at most 100 are allowed'), EXIT.tooLarge],
  ['a file that is not there', new ImageTransferError('missing_file', 'cannot read x.jpg: no such file'), EXIT.notFound],
  ['a file that is no image', new ImageTransferError('bad_file', 'x.txt is not an image Keeper takes'), EXIT.usage],
  ['a sealed image while locked', new ImageTransferError('locked', 'this image is sealed: unlock the vault to download it'), EXIT.unauthenticated],
  ['a download that arrived damaged', new ImageTransferError('damaged', 'the original arrived damaged'), EXIT.failure],
  ['server: unreachable', grpcError(status.UNAVAILABLE, 'No connection established'), EXIT.unavailable],
  ['server: too slow', grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), EXIT.unavailable],
  ['server: session ended', grpcError(status.UNAUTHENTICATED, 'the session has ended: log in again'), EXIT.unauthenticated],
  ['server: not allowed', grpcError(status.PERMISSION_DENIED, 'not yours'), EXIT.unauthenticated],
  ['server: bad input', grpcError(status.INVALID_ARGUMENT, 'name: must not be empty'), EXIT.usage],
  ['server: out of range', grpcError(status.OUT_OF_RANGE, 'version 99 is past the end of the log'), EXIT.usage],
  ['server: not found', grpcError(status.NOT_FOUND, 'record r does not exist'), EXIT.notFound],
  ['server: already exists', grpcError(status.ALREADY_EXISTS, 'login taken'), EXIT.conflict],
  ['server: changed meanwhile', grpcError(status.FAILED_PRECONDITION, 'record r was deleted'), EXIT.conflict],
  ['server: aborted', grpcError(status.ABORTED, 'try again'), EXIT.conflict],
  ['server: too many attempts', grpcError(status.RESOURCE_EXHAUSTED, 'too many failed logins; wait 2 s', { 'retry-after-ms': '2000' }), EXIT.throttled],
  ['server: image too large', grpcError(status.RESOURCE_EXHAUSTED, 'the image is 30 MB (30,000,000 bytes); at most 25 MB (25,000,000 bytes) are accepted'), EXIT.tooLarge],
  ['server: over a limit', grpcError(status.RESOURCE_EXHAUSTED, 'record r already has 50 images; at most 50 are allowed'), EXIT.tooLarge],
  ['server: message too large', grpcError(status.RESOURCE_EXHAUSTED, 'Received message larger than max (5000000 vs. 4194304)'), EXIT.tooLarge],
  ['server: a bug', grpcError(status.INTERNAL, 'internal server error'), EXIT.failure],
  ['server: not implemented', grpcError(status.UNIMPLEMENTED, 'unknown method'), EXIT.failure],
  ['no permission on a local file', errno('EACCES'), EXIT.failure],
  ['something unexpected', new Error('boom'), EXIT.failure],
];

describe('keeper exit codes', () => {
  for (const [what, error, code] of CASES) {
    it(`${what}: exit ${code}, with a sentence`, () => {
      const described = describeFailure(error, '127.0.0.1:7070');
      expect(described.exitCode).to.equal(code);
      expect(described.message).to.be.a('string').and.not.equal('');
      expect(described.message).to.not.match(/\n\s+at /);
    });
  }

  it('are the ones README lists, each with its meaning', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| (\d+) \| ([^|]+) \|$/gm)].map((m) => Number(m[1]));
    expect(rows).to.deep.equal(Object.values(EXIT));
    // Every code the CLI gives is in the table above.
    const used = new Set(CASES.map(([, , code]) => code));
    for (const code of used) expect(rows).to.include(code);
  });
});
