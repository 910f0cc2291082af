// Load from a process of its own, so the load generator does not share the measured process's CPU.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

interface Input {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Per user: the token and a few record ids; each request picks a user at random. */
  users?: Array<{ token: string; ids: string[] }>;
  queries?: string[];
  /** A fixed path instead (the bare route). */
  path?: string;
}

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.durationSeconds,
  requests: [
    {
      setupRequest(request) {
        if (input.path) return { ...request, method: 'GET', path: input.path };
        const user = pick(input.users!);
        const roll = Math.random();
        // The mix of the issue: search 60 %, get 30 %, list 10 %.
        const path = roll < 0.6 ? `/v1/records?q=${encodeURIComponent(pick(input.queries!))}&limit=20` : roll < 0.9 ? `/v1/records/${pick(user.ids)}` : '/v1/records?limit=50';
        return { ...request, method: 'GET', path, headers: { ...request.headers, authorization: `Bearer ${user.token}` } };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    bytesPerSecond: result.throughput.average,
  })}\n`,
);
