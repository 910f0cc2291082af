import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { commandToMutation } from '../../src/wire/mutations.js';
import { eventFromWire } from '../../src/wire/events.js';
import { readSnapshot } from '../../src/read-model/read-model.js';
import type { VaultEvent } from '../../src/domain/events.js';
import type { RecordKind, VaultRecord } from '../../src/domain/record.js';
import { VaultState } from '../../src/domain/vault-state.js';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';

/**
 * A model-based property test of sync: random local edits (create, update / remove fields,
 * rename, delete, restore) on two or three devices of one user that start from two shared
 * records, random offline periods and sync orders, pushes whose answer was lost (the pending
 * commands pushed by hand, the device none the wiser), and fresh installs that start again from
 * List, over a real server. After every device has synced twice, whatever happened:
 *   (a) every replica equals a full replay of the server's log;
 *   (b) the read model (List) equals that replay too;
 *   (c) no value a device wrote and still held when it synced is gone: it is in the log's events
 *       (so in the current state, in a conflict copy, or in the history). A value the same device
 *       overwrote, removed or restored away before syncing is not owed.
 *
 * KEEPER_PROPERTY_RUNS and KEEPER_PROPERTY_SEED explore more or other cases; a failure prints its
 * seed and path, and the shrunk list of operations.
 */

const PASSWORD = 'correct horse battery';
const FIELDS = ['user', 'pin', 'url', 'note'] as const;
const KINDS: RecordKind[] = ['login', 'card', 'note', 'custom'];
const RUNS = Number(process.env.KEEPER_PROPERTY_RUNS ?? 20);
const SEED = Number(process.env.KEEPER_PROPERTY_SEED ?? 20240501);

type FieldChange = { name: (typeof FIELDS)[number]; remove: boolean };

type Op =
  | { t: 'create'; dev: number; kind: RecordKind; fields: Array<(typeof FIELDS)[number]> }
  | { t: 'update'; dev: number; pick: number; changes: FieldChange[]; rename: boolean }
  | { t: 'rename'; dev: number; pick: number }
  | { t: 'delete'; dev: number; pick: number }
  | { t: 'restore'; dev: number; pick: number; version: number }
  | { t: 'sync'; dev: number }
  | { t: 'syncAll'; order: number[] }
  | { t: 'offline'; dev: number }
  | { t: 'lostPush'; dev: number }
  | { t: 'reinstall'; dev: number };

const dev = fc.nat({ max: 2 });
const pick = fc.nat({ max: 20 });
const fieldName = fc.constantFrom(...FIELDS);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('create' as const), dev, kind: fc.constantFrom(...KINDS), fields: fc.uniqueArray(fieldName, { maxLength: 3 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('update' as const),
      dev,
      pick,
      changes: fc.uniqueArray(fc.record({ name: fieldName, remove: fc.boolean() }), { minLength: 1, maxLength: 3, selector: (c) => c.name }),
      rename: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('rename' as const), dev, pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), dev, pick }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restore' as const), dev, pick, version: fc.nat({ max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sync' as const), dev }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('syncAll' as const), order: fc.shuffledSubarray([0, 1, 2], { minLength: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('offline' as const), dev }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lostPush' as const), dev }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reinstall' as const), dev }) },
);

interface Device {
  index: number;
  engine: SyncEngine;
  client: KeeperClient;
  home: string;
  offline: boolean;
  /** Values this device wrote since its last sync, by record and field ("#name" for the name). */
  unsynced: Map<string, string>;
}

interface World {
  userId: string;
  devices: Device[];
  /** Values that were on a device when it synced: none of them may be lost. */
  mustSurvive: Set<string>;
  counter: number;
  homes: string[];
  stats: Stats;
}

interface Stats {
  ops: number;
  syncs: number;
  lostPushes: number;
  landed: number;
  reinstalls: number;
  conflicts: Record<string, number>;
}

/** Records in an order that depends only on their content (ids and times are random). */
function ordered(records: VaultRecord[]): VaultRecord[] {
  const key = (r: VaultRecord) => `${r.name}\u0000${r.kind}\u0000${JSON.stringify(r.fields)}`;
  return [...records].sort((a, b) => key(a).localeCompare(key(b)));
}

function byId(records: VaultRecord[]): VaultRecord[] {
  return [...records].sort((a, b) => a.id.localeCompare(b.id));
}

function describeOp(op: Op): string {
  return JSON.stringify(op);
}

describe('sync converges and loses no edit, whatever the devices do (property, PGlite)', function () {
  let server: TestServer;
  const totals: Stats = { ops: 0, syncs: 0, lostPushes: 0, landed: 0, reinstalls: 0, conflicts: {} };

  before(async () => {
    server = await startTestServer(pgliteTarget);
  });
  after(async () => {
    await server?.close();
  });

  async function newWorld(deviceCount: number): Promise<World> {
    const login = `prop-${randomUUID().slice(0, 8)}`;
    const world: World = { userId: '', devices: [], mustSurvive: new Set(), counter: 0, homes: [], stats: { ops: 0, syncs: 0, lostPushes: 0, landed: 0, reinstalls: 0, conflicts: {} } };
    for (let index = 0; index < deviceCount; index++) {
      const home = await mkdtemp(join(tmpdir(), 'keeper-prop-'));
      world.homes.push(home);
      const sessions = new FileTokenStore(home, server.address);
      const client = new KeeperClient({ server: server.address, tls: false }, sessions);
      // One login (bcrypt is the slow part of a run); the other devices start with its tokens.
      if (index === 0) world.userId = (await client.register(login, PASSWORD)).userId;
      else await sessions.save((await world.devices[0]!.client.currentSession())!);
      const engine = await SyncEngine.open({ transport: grpcVaultTransport(client), server: server.address, home, userId: world.userId, clientId: `device-${index}` });
      world.devices.push({ index, engine, client, home, offline: false, unsynced: new Map() });
    }
    return world;
  }

  async function dispose(world: World): Promise<void> {
    for (const device of world.devices) device.client.close();
    await Promise.all(world.homes.map((home) => rm(home, { recursive: true, force: true })));
  }

  function value(world: World, device: Device, what: string): string {
    return `d${device.index}-${what}-${++world.counter}`;
  }

  async function sync(world: World, device: Device): Promise<void> {
    // What the device holds now must survive this sync, whatever the others did.
    for (const written of device.unsynced.values()) world.mustSurvive.add(written);
    device.unsynced.clear();
    const report = await device.engine.sync();
    world.stats.syncs++;
    for (const conflict of report.conflicts) world.stats.conflicts[conflict.kind] = (world.stats.conflicts[conflict.kind] ?? 0) + 1;
  }

  async function apply(world: World, op: Op): Promise<void> {
    const device = 'dev' in op ? world.devices[op.dev % world.devices.length]! : undefined;
    world.stats.ops++;
    switch (op.t) {
      case 'create': {
        const d = device!;
        const name = value(world, d, 'name');
        const fields = op.fields.map((f) => ({ name: f, value: value(world, d, f), sensitive: f === 'pin' }));
        const id = await d.engine.create({ kind: op.kind, name, fields });
        d.unsynced.set(`${id}|#name`, name);
        for (const f of fields) d.unsynced.set(`${id}|${f.name}`, f.value);
        return;
      }
      case 'update':
      case 'rename': {
        const d = device!;
        const live = ordered(d.engine.records());
        const target = live[op.pick % Math.max(1, live.length)];
        if (!target) return;
        const changes = op.t === 'update' ? op.changes : [];
        const setFields = changes.filter((c) => !c.remove).map((c) => ({ name: c.name, value: value(world, d, c.name), sensitive: c.name === 'pin' }));
        const removeFields = changes.filter((c) => c.remove).map((c) => c.name);
        const name = op.t === 'rename' || (op.t === 'update' && op.rename) ? value(world, d, 'name') : undefined;
        await d.engine.update(target.id, { setFields, removeFields, ...(name !== undefined ? { name } : {}) });
        for (const f of setFields) d.unsynced.set(`${target.id}|${f.name}`, f.value);
        for (const f of removeFields) d.unsynced.delete(`${target.id}|${f}`);
        if (name !== undefined) d.unsynced.set(`${target.id}|#name`, name);
        return;
      }
      case 'delete': {
        const d = device!;
        const live = ordered(d.engine.records());
        const target = live[op.pick % Math.max(1, live.length)];
        if (target) await d.engine.delete(target.id);
        return;
      }
      case 'restore': {
        const d = device!;
        if (d.offline) return; // history comes from the server
        // As `keeper restore` does: sync first, so the replica knows what the log offers to restore.
        await sync(world, d);
        const candidates = ordered([...d.engine.records(), ...(await d.engine.deletedRecords())]);
        const target = candidates[op.pick % Math.max(1, candidates.length)];
        if (!target) return;
        const versions = (await d.engine.history(target.id)).filter((v) => v.state.deletedAt === null);
        const version = versions[op.version % Math.max(1, versions.length)];
        if (!version) return;
        await d.engine.restore(target.id, version.version);
        // The restored content is in the log already; what the device wrote over it is gone on purpose.
        for (const key of [...d.unsynced.keys()]) if (key.startsWith(`${target.id}|`)) d.unsynced.delete(key);
        return;
      }
      case 'sync':
        if (!device!.offline) await sync(world, device!);
        return;
      case 'syncAll':
        for (const index of op.order) {
          const d = world.devices[index % world.devices.length]!;
          if (!d.offline) await sync(world, d);
        }
        return;
      case 'offline':
        device!.offline = !device!.offline;
        return;
      case 'reinstall': {
        // A fresh install (empty cache) of a device with nothing left to push: it starts again from List.
        const d = device!;
        if (d.offline || d.engine.pendingCount > 0) return;
        d.home = await mkdtemp(join(tmpdir(), 'keeper-prop-'));
        world.homes.push(d.home);
        d.engine = await SyncEngine.open({ transport: grpcVaultTransport(d.client), server: server.address, home: d.home, userId: world.userId, clientId: `device-${d.index}` });
        world.stats.reinstalls++;
        return;
      }
      case 'lostPush': {
        const d = device!;
        if (d.offline || d.engine.pendingCount === 0) return;
        // The push reaches the server but its answer never comes back: the commands stay queued.
        const response = await d.client.push({
          expectedVersion: d.engine.version,
          clientId: `device-${d.index}`,
          mutations: d.engine.pendingCommands.slice(0, 500).map(commandToMutation),
        });
        world.stats.lostPushes++;
        if (response.result?.$case === 'accepted') world.stats.landed++;
        return;
      }
    }
  }

  async function serverLog(world: World): Promise<VaultEvent[]> {
    const events: VaultEvent[] = [];
    await world.devices[0]!.client.pull(0, (batch) => {
      for (const wire of batch.events) events.push(eventFromWire(wire));
    });
    return events;
  }

  async function check(world: World): Promise<void> {
    const events = await serverLog(world);
    const truth = new VaultState().applyAll(events);
    const expected = byId(truth.live());

    // (a) every replica converged on a full replay of the log.
    for (const device of world.devices) {
      expect(device.engine.pendingCount, `device ${device.index}: nothing left to push`).to.equal(0);
      expect(device.engine.version, `device ${device.index}: at the server's version`).to.equal(truth.version);
      expect(byId(device.engine.records()), `device ${device.index}: records equal to a replay of the log`).to.deep.equal(expected);
    }

    // (b) the read model, once the projector is idle, equals the replay.
    await server.projected();
    const snapshot = await readSnapshot(server.db, world.userId);
    expect(snapshot.version, 'read model version').to.equal(truth.version);
    expect(byId(snapshot.records), 'read model records equal to a replay of the log').to.deep.equal(expected);

    // (c) every value a device held when it synced is somewhere in the log.
    const logged = new Set<string>();
    for (const event of events) {
      switch (event.type) {
        case 'RecordCreated':
        case 'RecordRestored':
          logged.add(event.data.name);
          for (const f of event.data.fields) logged.add(f.value);
          break;
        case 'RecordUpdated':
          if (event.data.name !== undefined) logged.add(event.data.name);
          for (const f of event.data.setFields) logged.add(f.value);
          break;
        default:
          break;
      }
    }
    const lost = [...world.mustSurvive].filter((v) => !logged.has(v));
    expect(lost, 'values written on a device that are nowhere in the log').to.deep.equal([]);
  }

  it('for random edits, offline periods, sync orders and lost push answers on 2-3 devices', async function () {
    this.timeout(15 * 60_000);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3 }), fc.array(opArb, { minLength: 5, maxLength: 30, size: 'max' }), async (deviceCount, ops) => {
        const world = await newWorld(deviceCount);
        try {
          // A shared start (two records on every device), so that edits on different devices meet.
          for (let i = 0; i < 2; i++) await apply(world, { t: 'create', dev: 0, kind: 'login', fields: ['user', 'pin', 'url'] });
          for (const device of world.devices) await sync(world, device);
          for (const op of ops) {
            try {
              await apply(world, op);
            } catch (error) {
              throw new Error(`operation ${describeOp(op)} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
            }
          }
          for (const device of world.devices) device.offline = false;
          for (let round = 0; round < 2; round++) for (const device of world.devices) await sync(world, device);
          await check(world);
          totals.ops += world.stats.ops;
          totals.syncs += world.stats.syncs;
          totals.lostPushes += world.stats.lostPushes;
          totals.landed += world.stats.landed;
          totals.reinstalls += world.stats.reinstalls;
          for (const [kind, n] of Object.entries(world.stats.conflicts)) totals.conflicts[kind] = (totals.conflicts[kind] ?? 0) + n;
        } finally {
          await dispose(world);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    // What the runs exercised, so a change that stops producing conflicts is noticed.
    console.log(
      `      ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}): ${totals.ops} operations, ${totals.syncs} syncs, ` +
        `${totals.lostPushes} lost push answers (${totals.landed} landed), ${totals.reinstalls} reinstalls, conflicts ${JSON.stringify(totals.conflicts)}`,
    );
    expect(totals.syncs).to.be.greaterThan(0);
  });
});
