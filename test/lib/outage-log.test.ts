import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { OutageLog } from '../../src/lib/outage-log.js';

function capture() {
  const lines: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: pino({ level: 'warn' }, stream) };
}

describe('OutageLog', () => {
  it('logs an outage as one line going down, a count each minute, one line back', async () => {
    const { lines, logger } = capture();
    let now = 0;
    const outage = new OutageLog(logger, 'the image job queue', { now: () => now });
    outage.succeeded();
    const failure = Object.assign(new Error('connection refused\n    at somewhere (file.ts:1:2)'), { stack: 'Error: long stack' });
    // Four attempts a second for two and a half minutes.
    for (; now < 150_000; now += 250) outage.failed(failure);
    outage.succeeded();
    outage.succeeded();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.msg)).to.deep.equal([
      'the image job queue is unavailable; retrying, and logging again when it is back',
      'the image job queue is still unavailable after 60 s: 241 attempts failed',
      'the image job queue is still unavailable after 120 s: 481 attempts failed',
      'the image job queue is back after 150 s (600 attempts failed meanwhile)',
    ]);
    expect(lines[0]!.reason).to.equal('connection refused');
    expect(JSON.stringify(lines)).to.not.contain('stack');
  });

  it('starts counting afresh for the next outage', async () => {
    const { lines, logger } = capture();
    const outage = new OutageLog(logger, 'x');
    outage.failed(new Error('a'));
    outage.succeeded();
    outage.failed('b');
    outage.failed('c');
    outage.succeeded();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.msg)).to.have.length(4);
    expect(lines[3]!.failures).to.equal(2);
  });
});
