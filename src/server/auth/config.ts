/** Options of the auth core. Plain data: validate it where the rest of the config is validated. */
export interface AuthConfig {
  /** bcrypt work factor; at least 10. */
  bcryptCost: number;
  /** Lifetime of an access token, in seconds. */
  accessTokenTtlSeconds: number;
  /** Lifetime of each refresh token, in seconds (every rotation starts a new one). */
  refreshTokenTtlSeconds: number;
  /** Seconds in which a used refresh token, presented again, gets the same successor (0: never). */
  refreshReuseWindowSeconds: number;
  /** Most milliseconds before a session ended through another replica is refused here too. */
  sessionCheckMs: number;
  throttle: ThrottleConfig;
}

export interface ThrottleConfig {
  /** Failed logins for one login from one peer address before that pair's attempts are delayed. */
  maxFailuresPerLoginAndPeer: number;
  /**
   * Failed logins for one login from all addresses together before attempts from addresses it has
   * not recently succeeded from are delayed: a ceiling on guessing spread over many addresses, set
   * high so that an attacker elsewhere cannot deny the owner.
   */
  maxFailuresPerLogin: number;
  /** Failed logins from one peer address, across logins, before its attempts are delayed (NATs share addresses). */
  maxFailuresPerPeer: number;
  /** Registrations refused as "login already taken" from one address before its registrations are delayed. */
  maxTakenLoginsPerPeer: number;
  /** The failure count of a key is forgotten once this long passes without a new failure. */
  windowMs: number;
  /** The first delay once the limit is reached; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest delay. */
  maxDelayMs: number;
  /** How long a successful login from an address lets it past the per-login ceiling. */
  trustedPeerMs: number;
  /** Most keys remembered per kind; the least recently failing are evicted first. */
  maxEntries: number;
}

export const DEFAULT_THROTTLE_CONFIG: Readonly<ThrottleConfig> = Object.freeze({
  maxFailuresPerLoginAndPeer: 5,
  maxFailuresPerLogin: 100,
  maxFailuresPerPeer: 20,
  maxTakenLoginsPerPeer: 20,
  windowMs: 15 * 60_000,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  trustedPeerMs: 30 * 24 * 3600_000,
  maxEntries: 100_000,
});

export const DEFAULT_AUTH_CONFIG: Readonly<AuthConfig> = Object.freeze({
  bcryptCost: 12,
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 30 * 24 * 60 * 60,
  refreshReuseWindowSeconds: 10,
  sessionCheckMs: 1_000,
  throttle: DEFAULT_THROTTLE_CONFIG,
});

export type AuthConfigInput = Partial<Omit<AuthConfig, 'throttle'>> & { throttle?: Partial<ThrottleConfig> };

/** The defaults with `input` laid over them (`undefined` values keep the default). */
export function resolveAuthConfig(input: AuthConfigInput = {}): AuthConfig {
  return {
    bcryptCost: input.bcryptCost ?? DEFAULT_AUTH_CONFIG.bcryptCost,
    accessTokenTtlSeconds: input.accessTokenTtlSeconds ?? DEFAULT_AUTH_CONFIG.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: input.refreshTokenTtlSeconds ?? DEFAULT_AUTH_CONFIG.refreshTokenTtlSeconds,
    refreshReuseWindowSeconds: input.refreshReuseWindowSeconds ?? DEFAULT_AUTH_CONFIG.refreshReuseWindowSeconds,
    sessionCheckMs: input.sessionCheckMs ?? DEFAULT_AUTH_CONFIG.sessionCheckMs,
    throttle: resolveThrottleConfig(input.throttle),
  };
}

export function resolveThrottleConfig(input: Partial<ThrottleConfig> = {}): ThrottleConfig {
  const merged = { ...DEFAULT_THROTTLE_CONFIG };
  for (const key of Object.keys(merged) as (keyof ThrottleConfig)[]) {
    const value = input[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
