// Keeps image downloads running until told to stop (see download-load.ts): reads its orders as a
// JSON line on stdin, reports the bytes received as JSON lines on stdout.
import { createInterface } from 'node:readline';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore, type StoredSession } from '../../src/client/token-store.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';

interface Orders {
  address: string;
  session: StoredSession;
  imageId: string;
  size: number;
  downloads: number;
}

const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
let downloading = true;
let received = 0;
let loops: Promise<void>[] = [];
let client: KeeperClient | undefined;

function start(orders: Orders): void {
  const tokens = new MemoryTokenStore();
  void tokens.save(orders.session);
  client = new KeeperClient({ server: orders.address, tls: false }, tokens, 30_000, 'download-load');
  const report = setInterval(() => say({ received }), 20);
  loops = Array.from({ length: orders.downloads }, async () => {
    while (downloading) {
      let got = 0;
      await client!.downloadImage(orders.imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async (chunk) => {
        got += chunk.length;
        received += chunk.length;
      });
      if (got !== orders.size) throw new Error(`a download came back with ${got} of ${orders.size} bytes`);
    }
  });
  Promise.all(loops).then(
    () => {
      clearInterval(report);
      say({ stopped: received });
      client!.close();
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`download load: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') downloading = false;
  else start(JSON.parse(line) as Orders);
});
