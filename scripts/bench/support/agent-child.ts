// The agent benchmark's measured process: a Keeper agent over the bench server, and beside it, in
// the same process, a bare route of the same framework (the HTTP floor the agent is compared with).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Fastify from 'fastify';
import { loadAgentConfig } from '../../../src/config/agent-config.js';
import { startAgent } from '../../../src/client/agent/start-agent.js';
import { createLogger } from '../../../src/logging.js';

const server = process.argv[2]!;
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
const home = await mkdtemp(join(tmpdir(), 'keeper-bench-agent-'));
const rssBefore = process.memoryUsage().rss;
const agent = await startAgent(loadAgentConfig({ listen: '127.0.0.1:0', server, home, maxUsers: 100_000, logLevel: 'warn' }, {}), createLogger('warn', 'bench-agent'), { refreshMs: 60_000 });
const bare = Fastify({ logger: false });
// The same shape of answer as a small agent read: a JSON object, serialized by the framework.
bare.get('/bare', async () => ({ record: { id: '00000000-0000-4000-8000-000000000000', name: 'bare', fields: [] }, sync: { stale: false } }));
await bare.listen({ host: '127.0.0.1', port: 0 });
const bareAddress = bare.server.address();
say({ ready: { agent: `http://${agent.address}`, bare: `http://127.0.0.1:${typeof bareAddress === 'object' && bareAddress ? bareAddress.port : 0}`, rssBefore } });

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    say({ rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, users: agent.users.size, open: agent.users.openCount });
  } else if (line === 'stop') {
    await bare.close();
    await agent.stop();
    await rm(home, { recursive: true, force: true });
    process.exit(0);
  }
});
