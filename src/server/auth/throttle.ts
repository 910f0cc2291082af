import { isIP } from 'node:net';
import { DEFAULT_THROTTLE_CONFIG, type ThrottleConfig } from './config.js';

export type Clock = () => number;

interface Entry {
  /** Failures in the current run (each within windowMs of the previous one). */
  failures: number;
  lastFailureAt: number;
  /** No attempt for this key before this time. */
  blockedUntil: number;
  /** Attempts started with `begin` and not yet settled by `fail` or `succeed`. */
  pending: number;
}

/** One kind of key (pair, login, peer) with its own limit, in a Map kept in least-recently-failed order. */
class Counter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limit: number,
    private readonly config: ThrottleConfig,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds to wait before the next attempt, or 0. */
  retryAfter(key: string, now: number): number {
    const entry = this.live(key, now);
    if (!entry) return 0;
    if (entry.blockedUntil > now) return entry.blockedUntil - now;
    // Attempts still in flight (see `begin`) count as failures until they settle, so a burst of
    // parallel attempts cannot all slip in before the first of them fails; past the limit, one at
    // a time.
    if (entry.pending >= Math.max(1, this.limit - entry.failures)) return this.config.baseDelayMs;
    return 0;
  }

  begin(key: string, now: number): void {
    const entry = this.live(key, now) ?? this.insert(key, now);
    entry.pending += 1;
  }

  fail(key: string, now: number): void {
    const entry = this.live(key, now) ?? this.insert(key, now);
    if (entry.pending > 0) entry.pending -= 1;
    entry.failures += 1;
    entry.lastFailureAt = now;
    const over = entry.failures - this.limit;
    if (over >= 0) {
      const delay = Math.min(this.config.baseDelayMs * 2 ** Math.min(over, 40), this.config.maxDelayMs);
      entry.blockedUntil = now + delay;
    }
    // Move to the end: most recently failed.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict(now);
  }

  settle(key: string, now: number): void {
    const entry = this.live(key, now);
    if (entry && entry.pending > 0) entry.pending -= 1;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.expired(entry, now)) {
      if (entry.pending === 0) {
        this.entries.delete(key);
        return undefined;
      }
      // Forget old failures but keep counting attempts still in flight.
      entry.failures = 0;
      entry.blockedUntil = 0;
    }
    return entry;
  }

  private insert(key: string, now: number): Entry {
    const entry: Entry = { failures: 0, lastFailureAt: now, blockedUntil: 0, pending: 0 };
    this.entries.set(key, entry);
    this.evict(now);
    return entry;
  }

  private expired(entry: Entry, now: number): boolean {
    return entry.blockedUntil <= now && now - entry.lastFailureAt >= this.config.windowMs;
  }

  private evict(now: number): void {
    if (this.entries.size <= this.config.maxEntries) return;
    // Oldest first: drop what has expired, then, if still too many, the least recently failed.
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.config.maxEntries) return;
      if (this.expired(entry, now) && entry.pending === 0) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.config.maxEntries) return;
      this.entries.delete(key);
    }
  }
}

/**
 * Slows down password guessing, in memory (per process). Failures are counted per (login, peer
 * address) pair first: that is what a guesser at one address meets, and it never touches the
 * owner elsewhere. Two wider counters catch what the pair counter cannot see: one per peer address
 * across logins (one address trying many accounts), and one per login across addresses with a
 * much higher ceiling (guessing spread over many addresses), which an address the login recently
 * succeeded from does not meet, so even a distributed attacker cannot lock the owner out of a
 * device they use. Once a key reaches its limit within the window, its attempts are refused until
 * a delay passes that doubles with each further failure (1 s, 2 s, 4 s … up to maxDelayMs). A
 * success clears the pair's and the login's counts, never the peer's. A `null` or empty login or
 * peer is simply not counted.
 *
 * Registration conflicts ("login already taken") have their own per-address counter, which only
 * slows registering (it would otherwise enumerate logins) and never a login.
 *
 * Use `check` + `fail`/`succeed`, or `begin` + `fail`/`succeed`/`release` to also count attempts
 * in flight.
 */
export class LoginThrottle {
  private readonly config: ThrottleConfig;
  private readonly pairs: Counter;
  private readonly logins: Counter;
  private readonly peers: Counter;
  private readonly takenLogins: Counter;
  /** Pair key -> until when that pair passes the per-login ceiling; Map order is recency order. */
  private readonly trusted = new Map<string, number>();

  constructor(
    config: Partial<ThrottleConfig> = {},
    private readonly clock: Clock = Date.now,
  ) {
    this.config = { ...DEFAULT_THROTTLE_CONFIG, ...definedOnly(config) };
    this.pairs = new Counter(this.config.maxFailuresPerLoginAndPeer, this.config);
    this.logins = new Counter(this.config.maxFailuresPerLogin, this.config);
    this.peers = new Counter(this.config.maxFailuresPerPeer, this.config);
    this.takenLogins = new Counter(this.config.maxTakenLoginsPerPeer, this.config);
  }

  /** Null when an attempt may go ahead, else how many ms to wait. */
  check(login: string | null, peer: string | null): number | null {
    return this.retryAfter(this.keys(login, peer), this.clock());
  }

  /**
   * Like `check`, and when the attempt may go ahead it is counted as in flight until `fail` or
   * `succeed` is called for it (call exactly one of them).
   */
  begin(login: string | null, peer: string | null): number | null {
    const now = this.clock();
    const keys = this.keys(login, peer);
    const wait = this.retryAfter(keys, now);
    if (wait !== null) return wait;
    this.each(keys, now, (counter, key) => counter.begin(key, now));
    return null;
  }

  fail(login: string | null, peer: string | null): void {
    const now = this.clock();
    this.each(this.keys(login, peer), now, (counter, key) => counter.fail(key, now), true);
  }

  succeed(login: string | null, peer: string | null): void {
    const now = this.clock();
    const keys = this.keys(login, peer);
    if (keys.pair) {
      this.pairs.reset(keys.pair);
      this.trust(keys.pair, now);
    }
    if (keys.login) this.logins.reset(keys.login);
    if (keys.peer) this.peers.settle(keys.peer, now);
  }

  /** Ends an attempt started with `begin` without counting it either way (e.g. it hit a fault). */
  release(login: string | null, peer: string | null): void {
    const now = this.clock();
    this.each(this.keys(login, peer), now, (counter, key) => counter.settle(key, now), true);
  }

  /** Null when `peer` may register now, else how many ms to wait. */
  checkRegister(peer: string | null): number | null {
    const p = peer ? peerAddress(peer) : '';
    const wait = p ? this.takenLogins.retryAfter(p, this.clock()) : 0;
    return wait > 0 ? wait : null;
  }

  /** A registration from `peer` was refused because the login is taken. */
  loginTaken(peer: string | null): void {
    const p = peer ? peerAddress(peer) : '';
    if (p) this.takenLogins.fail(p, this.clock());
  }

  /** How many keys are remembered, per kind (for tests and metrics). */
  get size(): { pairs: number; logins: number; peers: number; trusted: number } {
    return { pairs: this.pairs.size, logins: this.logins.size, peers: this.peers.size, trusted: this.trusted.size };
  }

  private retryAfter(keys: Keys, now: number): number | null {
    let wait = 0;
    this.each(keys, now, (counter, key) => {
      wait = Math.max(wait, counter.retryAfter(key, now));
    });
    return wait > 0 ? wait : null;
  }

  /**
   * Runs `fn` for every counter that applies to these keys. The per-login ceiling does not apply
   * to a trusted pair, except to record its failures (`always`).
   */
  private each(keys: Keys, now: number, fn: (counter: Counter, key: string) => void, always = false): void {
    if (keys.pair) fn(this.pairs, keys.pair);
    if (keys.login && (always || !this.isTrusted(keys.pair, now))) fn(this.logins, keys.login);
    if (keys.peer) fn(this.peers, keys.peer);
  }

  private isTrusted(pair: string | null, now: number): boolean {
    if (!pair) return false;
    const until = this.trusted.get(pair);
    if (until === undefined) return false;
    if (until > now) return true;
    this.trusted.delete(pair);
    return false;
  }

  private trust(pair: string, now: number): void {
    this.trusted.delete(pair);
    this.trusted.set(pair, now + this.config.trustedPeerMs);
    while (this.trusted.size > this.config.maxEntries) this.trusted.delete(this.trusted.keys().next().value as string);
  }

  private keys(login: string | null, peer: string | null): Keys {
    const l = login ? login.trim().toLowerCase() : '';
    const p = peer ? peerAddress(peer) : '';
    return { login: l || null, peer: p || null, pair: l && p ? JSON.stringify([l, p]) : null };
  }
}

interface Keys {
  login: string | null;
  peer: string | null;
  pair: string | null;
}

/**
 * The address part of a peer string, so that every connection from one host counts together:
 * drops a gRPC scheme (`ipv4:`, `ipv6:`) and the port, and narrows IPv6 to its /64 (one host
 * usually owns a whole /64). Anything else (e.g. `unix:/path`) is returned unchanged.
 */
export function peerAddress(peer: string): string {
  let address = peer.trim().replace(/^ipv[46]:/i, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1]) address = bracketed[1];
  else if (/^[^:]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  address = address.replace(/%.*$/, ''); // IPv6 zone id
  if (isIP(address) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped?.[1] ?? `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
  }
  return address;
}

function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  // An embedded IPv4 tail becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => (parseInt(group, 16) || 0).toString(16));
}

function definedOnly<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
