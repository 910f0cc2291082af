import type { Server, ServerWritableStream } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/** The names `grpc.health.v1.Health` answers for: the whole server ("") and each Keeper service. */
export const HEALTH_SERVICE_NAMES = ['', 'keeper.v1.AuthService', 'keeper.v1.VaultService', 'keeper.v1.ImageService'];

export interface ServingHealthOptions {
  /** How often the database is probed (default 5 s). */
  intervalMs?: number;
  /** A probe slower than this counts as unreachable (default 5 s: under load it waits for a pooled connection). */
  timeoutMs?: number;
  /** Told on every change of state, with the probe's error when it turned unreachable. */
  onChange?: (serving: boolean, error?: unknown) => void;
}

/**
 * The standard health service: SERVING while the database answers a cheap probe, NOT_SERVING
 * when it does not, and from the moment the server starts draining (for good: a stopping server
 * never comes back). Watchers are told each change; draining ends their streams, so they do not
 * hold the shutdown up.
 */
export class ServingHealth {
  private readonly impl = new HealthImplementation(Object.fromEntries(HEALTH_SERVICE_NAMES.map((name) => [name, 'NOT_SERVING' as ServingStatus])));
  private readonly watches = new Set<ServerWritableStream<unknown, unknown>>();
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private serving: boolean | undefined;
  private probing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly options: ServingHealthOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  addToServer(server: Pick<Server, 'addService'>): void {
    this.impl.addToServer({
      addService: (service, implementation) => {
        const watch = implementation.watch as (call: ServerWritableStream<unknown, unknown>) => void;
        server.addService(service, {
          ...implementation,
          watch: (call: ServerWritableStream<unknown, unknown>) => {
            if (this.draining) {
              call.end();
              return;
            }
            this.watches.add(call);
            call.on('cancelled', () => this.watches.delete(call));
            watch(call);
          },
        });
      },
    });
  }

  /** Probes once (so the first answer is true) and then every interval. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  /** NOT_SERVING from now on; open Watch streams get it and then end. */
  drain(): void {
    this.draining = true;
    clearInterval(this.timer);
    this.set(false);
    for (const call of this.watches) call.end();
    this.watches.clear();
  }

  private check(): Promise<void> {
    // A probe still running has outlived its timeout and already said NOT_SERVING: wait for it.
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the database did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const probe = this.probe();
    try {
      await Promise.race([probe, timeout]);
      if (!this.draining) this.set(true);
    } catch (error) {
      this.set(false, error);
      // Held until the slow probe settles, so probes never pile up on a hung connection.
      await probe.catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  }

  private set(serving: boolean, error?: unknown): void {
    if (this.serving === serving) return;
    this.serving = serving;
    for (const name of HEALTH_SERVICE_NAMES) this.impl.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
    this.options.onChange?.(serving, error);
  }
}
