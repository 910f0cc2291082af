import { expect } from 'chai';
import { LoginThrottle, peerAddress } from '../../../src/server/auth/throttle.js';
import { FakeClock } from './helpers.js';

describe('auth login throttle', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  const throttle = (config = {}) => new LoginThrottle({ maxFailuresPerLoginAndPeer: 5, maxFailuresPerLogin: 5, maxFailuresPerPeer: 20, ...config }, clock.now);

  it('lets 5 failures through, then delays 1 s, 2 s, 4 s ... up to the cap', () => {
    const t = throttle({ maxDelayMs: 10_000 });
    for (let i = 0; i < 5; i += 1) {
      expect(t.check('alice', 'peer-a')).to.equal(null);
      t.fail('alice', 'peer-a');
    }
    expect(t.check('alice', 'peer-a')).to.equal(1_000);
    clock.advance(400);
    expect(t.check('alice', 'peer-a')).to.equal(600);
    clock.advance(600);
    expect(t.check('alice', 'peer-a')).to.equal(null);
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      t.fail('alice', 'peer-a');
      const wait = t.check('alice', 'peer-a');
      delays.push(wait ?? 0);
      clock.advance(wait ?? 0);
    }
    expect(delays).to.deep.equal([2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('throttles a login from every peer, case-insensitively', () => {
    const t = throttle();
    for (let i = 0; i < 5; i += 1) t.fail('Alice', `10.0.0.${i}`);
    expect(t.check('ALICE', '10.9.9.9')).to.equal(1_000);
    expect(t.check(' alice ', null)).to.equal(1_000);
    expect(t.check('bob', '10.0.0.1')).to.equal(null);
  });

  it('counts one login from one address apart from the same login elsewhere', () => {
    const t = throttle({ maxFailuresPerLogin: 100 });
    for (let i = 0; i < 7; i += 1) t.fail('alice', `ipv4:198.51.100.66:${4000 + i}`);
    expect(t.check('alice', 'ipv4:198.51.100.66:5000')).to.equal(4_000);
    expect(t.check('alice', 'ipv4:192.0.2.10:5000')).to.equal(null);
    expect(t.check('bob', 'ipv4:198.51.100.66:5000')).to.equal(null);
  });

  it('lets an address the login succeeded from past the per-login ceiling, not past its own pair limit', () => {
    const t = throttle({ maxFailuresPerLogin: 10, trustedPeerMs: 60_000 });
    t.succeed('alice', 'home:1');
    for (let i = 0; i < 10; i += 1) t.fail('alice', `10.0.0.${i}`);
    expect(t.check('alice', '10.0.9.9')).to.equal(1_000);
    expect(t.check('alice', 'home:2')).to.equal(null);
    for (let i = 0; i < 5; i += 1) t.fail('alice', 'home:3');
    expect(t.check('alice', 'home:4')).to.be.above(0);
    clock.advance(60_000 + 1_000 * 2 ** 5);
    // the trust has lapsed: the (still counted) ceiling applies to home again
    for (let i = 0; i < 10; i += 1) t.fail('alice', `10.0.1.${i}`);
    t.succeed('bob', 'home:5');
    expect(t.check('alice', 'home:6')).to.be.above(0);
  });

  it("counts registration conflicts apart: they slow registering only, never logging in", () => {
    const t = throttle({ maxTakenLoginsPerPeer: 3 });
    for (let i = 0; i < 3; i += 1) t.loginTaken('ipv4:192.0.2.5:1');
    expect(t.checkRegister('ipv4:192.0.2.5:2')).to.equal(1_000);
    expect(t.checkRegister('ipv4:192.0.2.6:2')).to.equal(null);
    expect(t.check('alice', 'ipv4:192.0.2.5:3')).to.equal(null);
  });

  it('throttles a peer across many logins, by address without port', () => {
    const t = throttle({ maxFailuresPerPeer: 3 });
    t.fail('a1', 'ipv4:192.0.2.7:50001');
    t.fail('a2', '192.0.2.7:50002');
    expect(t.check('a3', '192.0.2.7:50003')).to.equal(null);
    t.fail('a3', '192.0.2.7:50003');
    expect(t.check('someone-else', '192.0.2.7:50004')).to.equal(1_000);
    expect(t.check('someone-else', '192.0.2.8:50004')).to.equal(null);
  });

  it('a success clears the login but not the peer', () => {
    const t = throttle({ maxFailuresPerPeer: 6 });
    for (let i = 0; i < 4; i += 1) t.fail('alice', 'p');
    t.succeed('alice', 'p');
    for (let i = 0; i < 4; i += 1) t.fail('alice', 'q');
    expect(t.check('alice', 'q')).to.equal(null); // 4 since the success, not 8
    t.fail('bob', 'p');
    t.fail('bob', 'p');
    expect(t.check('carol', 'p')).to.equal(1_000); // the peer kept its 4 + 2
  });

  it('forgets failures after a quiet window', () => {
    const t = throttle({ windowMs: 60_000 });
    for (let i = 0; i < 4; i += 1) t.fail('alice', null);
    clock.advance(59_999);
    t.fail('alice', null);
    expect(t.check('alice', null)).to.equal(1_000);
    clock.advance(60_000);
    t.fail('alice', null);
    expect(t.check('alice', null)).to.equal(null);
    expect(t.size.logins).to.equal(1);
  });

  it('counts attempts in flight (begin), so a parallel burst cannot slip past the limit', () => {
    const t = throttle({ maxFailuresPerLogin: 3 });
    const started = Array.from({ length: 10 }, () => t.begin('alice', 'p'));
    expect(started.filter((wait) => wait === null)).to.have.length(3);
    t.fail('alice', 'p');
    t.fail('alice', 'p');
    t.fail('alice', 'p');
    expect(t.begin('alice', 'p')).to.equal(1_000);
    clock.advance(1_000);
    // past the limit: one attempt at a time
    expect(t.begin('alice', 'p')).to.equal(null);
    expect(t.begin('alice', 'p')).to.equal(1_000);
    t.release('alice', 'p');
    expect(t.begin('alice', 'p')).to.equal(null);
    t.succeed('alice', 'p');
    expect(t.check('alice', 'p')).to.equal(null);
  });

  it('stays within maxEntries, evicting the least recently failed', () => {
    const t = throttle({ maxEntries: 50 });
    for (let i = 0; i < 1_000; i += 1) t.fail(`user${i}`, `198.51.100.${i % 200}`);
    expect(t.size.logins).to.be.at.most(50);
    expect(t.size.pairs).to.be.at.most(50);
    expect(t.size.peers).to.be.at.most(50);
    for (let i = 0; i < 5; i += 1) t.fail('recent', 'p');
    expect(t.check('recent', null)).to.equal(1_000);
  });

  it('reduces peer strings to the address', () => {
    expect(peerAddress('ipv4:127.0.0.1:5000')).to.equal('127.0.0.1');
    expect(peerAddress('127.0.0.1:5000')).to.equal('127.0.0.1');
    expect(peerAddress('127.0.0.1')).to.equal('127.0.0.1');
    expect(peerAddress('ipv6:[::ffff:10.1.2.3]:443')).to.equal('10.1.2.3');
    expect(peerAddress('[2001:db8:1:2:3:4:5:6]:443')).to.equal('2001:db8:1:2::/64');
    expect(peerAddress('2001:db8:1:2::9')).to.equal('2001:db8:1:2::/64');
    expect(peerAddress('[2001:db8::1]:443')).to.equal('2001:db8:0:0::/64');
    expect(peerAddress('[::1]:443')).to.equal('0:0:0:0::/64');
    expect(peerAddress('unix:/run/keeper.sock')).to.equal('unix:/run/keeper.sock');
  });
});
