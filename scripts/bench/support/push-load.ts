/**
 * The push benchmark's load generator, run in a worker thread so that 50 clients' gRPC and
 * protobuf work does not share the server's event loop (in production they are other machines).
 * Each lane is one KeeperClient logged in as its own user (its session is in its own directory).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KeeperClient } from '../../../src/client/keeper-client.js';
import { createMutation } from '../../../src/wire/mutations.js';
import { FileTokenStore } from '../../../src/client/token-store.js';
import { closedLoop, type LoadResult, type LoadTiming, type Tick } from './load.js';
import { smallRecord } from './payloads.js';

export interface PushLoadInput extends LoadTiming {
  address: string;
  /** One session directory per client, already logged in. */
  homes: string[];
  /** The stream version each client's user is at now. */
  versions: number[];
  batch: number;
}

export type PushLoadMessage =
  | { kind: 'tick'; tick: Tick }
  | { kind: 'done'; result: LoadResult; versions: number[]; conflicts: number };

async function main(input: PushLoadInput): Promise<void> {
  const clients = input.homes.map((home) => new KeeperClient({ server: input.address, tls: false }, new FileTokenStore(home, input.address)));
  const versions = [...input.versions];
  let conflicts = 0;
  let n = 0;
  try {
    const result = await closedLoop(
      clients.length,
      async (lane) => {
        const mutations = Array.from({ length: input.batch }, () => createMutation(smallRecord(n++)));
        const response = await clients[lane]!.push({ expectedVersion: versions[lane]!, clientId: `bench-${lane}`, mutations });
        const outcome = response.result;
        if (outcome?.$case !== 'accepted') {
          conflicts++;
          throw new Error(`push was not accepted: ${JSON.stringify(outcome)}`);
        }
        if (outcome.value.duplicate) throw new Error('push was taken for a retry');
        versions[lane] = outcome.value.version;
        return mutations.length;
      },
      input,
      (tick) => parentPort!.postMessage({ kind: 'tick', tick } satisfies PushLoadMessage),
    );
    parentPort!.postMessage({ kind: 'done', result, versions, conflicts } satisfies PushLoadMessage);
  } finally {
    for (const client of clients) client.close();
  }
}

await main(workerData as PushLoadInput);
