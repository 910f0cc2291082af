import { decide, decideVaultKey } from '../../src/domain/decider.js';
import type { VaultEvent, VaultEventData } from '../../src/domain/events.js';
import { VaultState } from '../../src/domain/vault-state.js';
import type { PushBatch, PushOutcome, VaultSnapshot, VaultTransport } from '../../src/client/sync/transport.js';

/**
 * One user's log in memory, answering as the Keeper server does for sync: a push lands whole at
 * the expected version or is a conflict carrying the current version, a retried push (the same
 * mutation ids right after its expected version) is a duplicate, List is a snapshot of live
 * records. Lets sync and rebase be tested without a server or a database.
 */
export class MemoryLog {
  readonly events: VaultEvent[] = [];
  private state = new VaultState();
  /** Unix ms stamped on appended events. */
  now = 1_700_000_000_000;
  /** Calls seen, by method, so a test can say what crossed the "wire". */
  readonly calls = { status: 0, list: 0, pull: 0, push: 0 };
  /** Set to make every call fail, as an unreachable server does. */
  down: Error | undefined;

  transport(): VaultTransport {
    return {
      status: async () => {
        this.check('status');
        return { version: this.state.version, lastModifiedAt: this.state.lastModifiedAt };
      },
      list: async () => {
        this.check('list');
        return this.snapshot();
      },
      pull: async (since, onEvents) => {
        this.check('pull');
        const tail = this.events.slice(since);
        for (let i = 0; i < tail.length; i += 3) onEvents(tail.slice(i, i + 3));
      },
      push: async (batch) => {
        this.check('push');
        return this.push(batch);
      },
    };
  }

  /** Cuts the log back to `version` events, as a server restored from an older backup. */
  truncate(version: number): void {
    this.events.length = version;
    this.state = new VaultState().applyAll(this.events);
  }

  private check(call: keyof MemoryLog['calls']): void {
    this.calls[call]++;
    if (this.down) throw this.down;
  }

  private snapshot(): VaultSnapshot {
    const live = [...this.state.records.values()].filter((r) => r.deletedAt === null);
    const liveIds = new Set(live.map((r) => r.id));
    return {
      version: this.state.version,
      lastModifiedAt: this.state.lastModifiedAt,
      records: live.map((r) => structuredClone(r)),
      images: [...this.state.images.values()].filter((i) => liveIds.has(i.recordId)).map((i) => structuredClone(i)),
      vaultKey: this.state.vaultKey,
    };
  }

  private push(batch: PushBatch): PushOutcome {
    const version = this.state.version;
    if (batch.expectedVersion !== version) {
      const landed = this.events.slice(batch.expectedVersion, batch.expectedVersion + batch.commands.length);
      const retry = landed.length === batch.commands.length && landed.every((event, i) => event.id === batch.commands[i]!.mutationId);
      return retry ? { accepted: true, version: batch.expectedVersion + batch.commands.length, duplicate: true } : { accepted: false, currentVersion: version };
    }
    // Decided against a scratch copy, so a refused mutation leaves the log as it was.
    const scratch = new VaultState().applyAll(this.events);
    const decided: VaultEvent[] = [];
    this.now += 1_000;
    for (const command of batch.commands) {
      const data: VaultEventData = command.type === 'SetVaultKey' ? decideVaultKey(command, scratch.vaultKey) : decide(command, scratch.get(command.recordId));
      const event = {
        ...data,
        id: command.mutationId,
        version: scratch.version + 1,
        metadata: { mutationId: command.mutationId, recordId: command.type === 'SetVaultKey' ? '' : command.recordId, clientId: batch.clientId, at: this.now },
      } as VaultEvent;
      scratch.apply(event);
      decided.push(event);
    }
    this.events.push(...decided);
    this.state.applyAll(decided);
    return { accepted: true, version: this.state.version, duplicate: false };
  }
}
