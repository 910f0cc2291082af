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

/** One kind of key (login or peer) with its own limit, in a Map kept in least-recently-failed order. */
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
 * Slows down password guessing, in memory (per process). Failures are counted per login
 * (lower-cased) and per peer address; once a key reaches its limit within the window, attempts for
 * it are refused until a delay passes that doubles with each further failure (1 s, 2 s, 4 s … up
 * to maxDelayMs). A success clears the login's count, never the peer's. A `null` or empty login or
 * peer is simply not counted.
 *
 * Use `check` + `fail`/`succeed`, or `begin` + `fail`/`succeed`/`release` to also count attempts
 * in flight.
 */
export class LoginThrottle {
  private readonly config: ThrottleConfig;
  private readonly logins: Counter;
  private readonly peers: Counter;

  constructor(
    config: Partial<ThrottleConfig> = {},
    private readonly clock: Clock = Date.now,
  ) {
    this.config = { ...DEFAULT_THROTTLE_CONFIG, ...definedOnly(config) };
    this.logins = new Counter(this.config.maxFailuresPerLogin, this.config);
    this.peers = new Counter(this.config.maxFailuresPerPeer, this.config);
  }

  /** Null when an attempt may go ahead, else how many ms to wait. */
  check(login: string | null, peer: string | null): number | null {
    return this.retryAfter(login, peer);
  }

  /**
   * Like `check`, and when the attempt may go ahead it is counted as in flight until `fail` or
   * `succeed` is called for it (call exactly one of them).
   */
  begin(login: string | null, peer: string | null): number | null {
    const wait = this.retryAfter(login, peer);
    if (wait !== null) return wait;
    const now = this.clock();
    const [l, p] = this.keys(login, peer);
    if (l) this.logins.begin(l, now);
    if (p) this.peers.begin(p, now);
    return null;
  }

  fail(login: string | null, peer: string | null): void {
    const now = this.clock();
    const [l, p] = this.keys(login, peer);
    if (l) this.logins.fail(l, now);
    if (p) this.peers.fail(p, now);
  }

  succeed(login: string | null, peer: string | null): void {
    const now = this.clock();
    const [l, p] = this.keys(login, peer);
    if (l) this.logins.reset(l);
    if (p) this.peers.settle(p, now);
  }

  /** Ends an attempt started with `begin` without counting it either way (e.g. it hit a fault). */
  release(login: string | null, peer: string | null): void {
    const now = this.clock();
    const [l, p] = this.keys(login, peer);
    if (l) this.logins.settle(l, now);
    if (p) this.peers.settle(p, now);
  }

  /** How many keys are remembered, per kind (for tests and metrics). */
  get size(): { logins: number; peers: number } {
    return { logins: this.logins.size, peers: this.peers.size };
  }

  private retryAfter(login: string | null, peer: string | null): number | null {
    const now = this.clock();
    const [l, p] = this.keys(login, peer);
    const wait = Math.max(l ? this.logins.retryAfter(l, now) : 0, p ? this.peers.retryAfter(p, now) : 0);
    return wait > 0 ? wait : null;
  }

  private keys(login: string | null, peer: string | null): [string | null, string | null] {
    const l = login ? login.trim().toLowerCase() : '';
    const p = peer ? peerAddress(peer) : '';
    return [l || null, p || null];
  }
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
