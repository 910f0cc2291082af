import { expect } from 'chai';
import { ConfigError, ServiceUnreachable } from '../../src/config/env.js';
import { databaseStartupError } from '../../src/server/sql/startup-errors.js';

const URL = 'postgres://keeper:hunter2@db.example:6543/keeper';

function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('database startup errors', () => {
  it('says a peer that hangs up during the handshake may not be PostgreSQL, however the hang-up shows', () => {
    for (const error of [failure('Connection terminated unexpectedly'), failure('read ECONNRESET', 'ECONNRESET'), failure('write EPIPE', 'EPIPE')]) {
      const mapped = databaseStartupError(error, URL);
      expect(mapped, error.message).to.be.instanceOf(ServiceUnreachable);
      expect((mapped as Error).message).to.equal(
        'cannot connect to the database that --database-url / KEEPER_DATABASE_URL (PostgreSQL at db.example:6543/keeper) names: the server there closed the connection during the handshake (is it PostgreSQL?)',
      );
    }
  });

  it('names the setting for refused connections and unknown hosts, and never the password', () => {
    const refused = databaseStartupError(failure('connect ECONNREFUSED', 'ECONNREFUSED'), URL) as Error;
    expect(refused).to.be.instanceOf(ServiceUnreachable);
    expect(refused.message).to.match(/connection refused \(is PostgreSQL running there\?\)$/);
    const unknown = databaseStartupError(failure('getaddrinfo ENOTFOUND db.example', 'ENOTFOUND'), URL) as Error;
    expect(unknown).to.be.instanceOf(ConfigError);
    expect(unknown.message).to.match(/its host is not known$/);
    expect(refused.message + unknown.message).to.not.contain('hunter2');
  });

  it('passes anything else through unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(databaseStartupError(bug, URL)).to.equal(bug);
  });
});
