import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isTransientDatabaseError } from '../../src/server/sql/transient-errors.js';
import { toGrpcStatus } from '../../src/server/grpc/errors.js';
import { offlineNotice } from '../../src/client/tui/failures.js';
import { describeFailure } from '../../src/client/cli/errors.js';

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('transient database faults', () => {
  it('tells faults worth a retry from bugs', () => {
    for (const error of [
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('08006'),
      pgError('40001'),
      pgError('40P01'),
      pgError('53300'),
      pgError('57014', 'canceling statement due to statement timeout'),
      pgError('ECONNREFUSED'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('the append failed', { cause: pgError('57P01') }),
    ]) {
      expect(isTransientDatabaseError(error), error.message).to.equal(true);
    }
    for (const error of [pgError('23505'), pgError('42P01'), pgError('22P05'), new TypeError('x is undefined'), 'a string', undefined]) {
      expect(isTransientDatabaseError(error), String(error)).to.equal(false);
    }
  });

  it('answers a transient fault UNAVAILABLE with a sentence saying a retry is safe, and a bug INTERNAL', () => {
    const { logger, lines } = capture();
    const transient = toGrpcStatus(pgError('57P01', 'terminating connection due to administrator command'), logger);
    expect(transient.code).to.equal(status.UNAVAILABLE);
    expect(transient.details).to.match(/retrying the call is safe/);
    expect(transient.metadata?.get('retry-after-ms')).to.have.length(1);
    expect(lines, 'the outage log reports it, not every call').to.deep.equal([]);
    expect(toGrpcStatus(new TypeError('x is undefined'), logger).code).to.equal(status.INTERNAL);
    expect(lines).to.have.length(1);
  });

  it('has the CLI and the TUI say the server is unavailable for a moment, and a dead connection unreachable', () => {
    const metadata = new Metadata();
    metadata.set('retry-after-ms', '500');
    const busy = Object.assign(new Error('14 UNAVAILABLE'), { code: status.UNAVAILABLE, details: 'the server lost its database connection for a moment; retrying the call is safe', metadata }) as ServiceError;
    const down = Object.assign(new Error('14 UNAVAILABLE'), { code: status.UNAVAILABLE, details: 'No connection established', metadata: new Metadata() }) as ServiceError;
    expect(describeFailure(busy, 'vault:7070')).to.deep.equal({
      message: 'the Keeper server at vault:7070 is unavailable for a moment (the server lost its database connection for a moment; retrying the call is safe); nothing was lost, try again shortly',
      exitCode: 6,
    });
    expect(describeFailure(down, 'vault:7070').message).to.match(/^cannot reach the Keeper server at vault:7070/);
    expect(offlineNotice(busy, 'vault:7070')).to.match(/^server unavailable for a moment \(vault:7070\), retrying/);
    expect(offlineNotice(down, 'vault:7070')).to.match(/^offline: cannot reach vault:7070/);
  });
});
