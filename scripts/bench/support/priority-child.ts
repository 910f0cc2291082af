// The priority benchmark's clients, in processes of their own as they would be on other machines:
// `downloads` keeps image downloads running between `start` and `stop`; `data` asks List and Pull
// of other users for a phase and reports each request's latency. The server is the bench's process.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeeperClient } from '../../../src/client/keeper-client.js';
import { MemoryTokenStore, type StoredSession } from '../../../src/client/token-store.js';
import { Rendition } from '../../../src/gen/keeper/v1/images.js';

export interface DownloadsInput {
  role: 'downloads';
  address: string;
  users: Array<{ session: StoredSession; imageId: string }>;
  downloads: number;
  size: number;
}

export interface DataInput {
  role: 'data';
  address: string;
  sessions: StoredSession[];
}

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as DownloadsInput | DataInput;
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

function clientOf(session: StoredSession): KeeperClient {
  const store = new MemoryTokenStore();
  void store.save(session);
  return new KeeperClient({ server: input.address, tls: false }, store, 30_000, 'bench-priority');
}

const clients = input.role === 'downloads' ? input.users.map((user) => clientOf(user.session)) : input.sessions.map(clientOf);
let handle: (command: string, argument: string) => Promise<void>;

if (input.role === 'downloads') {
  const { users, downloads, size } = input;
  let downloading = false;
  let received = 0;
  const loops: Promise<void>[] = [];
  handle = async (command) => {
    if (command === 'start') {
      downloading = true;
      for (let d = 0; d < downloads; d++) {
        const client = clients[d % users.length]!;
        const { imageId } = users[d % users.length]!;
        loops.push(
          (async () => {
            while (downloading) {
              let got = 0;
              await client.downloadImage(imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async (chunk) => {
                got += chunk.length;
                received += chunk.length;
              });
              if (got !== size) throw new Error(`a download came back with ${got} of ${size} bytes`);
            }
          })(),
        );
      }
      say({ started: true });
    } else if (command === 'stop-downloads') {
      downloading = false;
      await Promise.all(loops.splice(0));
      say({ stopped: { received } });
    }
  };
} else {
  let request = 0;
  /** One data request: List, or Pull from the start (a first load) every tenth, else Pull of the last few. */
  const dataRequest = async (): Promise<number> => {
    const n = request++;
    const client = clients[n % clients.length]!;
    const started = performance.now();
    if (n % 10 === 0) await client.pull(0, () => undefined);
    else if (n % 2 === 0) await client.list();
    else await client.pull(95, () => undefined);
    return performance.now() - started;
  };
  handle = async (command, argument) => {
    if (command !== 'phase') return;
    const latencies: number[] = [];
    const until = performance.now() + Number(argument);
    // Two clients in turn, with a short think time: a stream of requests, not a flood.
    await Promise.all(
      [0, 1].map(async () => {
        while (performance.now() < until) {
          latencies.push(await dataRequest());
          await sleep(5);
        }
      }),
    );
    say({ latencies });
  };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command = '', argument = ''] = line.split(' ');
  if (command === 'stop') {
    for (const client of clients) client.close();
    process.exit(0);
  }
  handle(command, argument).catch((error: unknown) => {
    process.stderr.write(`${input.role}: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
});
say({ ready: true });
