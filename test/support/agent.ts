import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/config/agent-config.js';
import { startAgent, type RunningAgent } from '../../src/client/agent/start-agent.js';
import { createLogger } from '../../src/logging.js';

export interface TestAgent {
  agent: RunningAgent;
  base: string;
  /** Every line the agent logged (at trace), for what must never be in them. */
  logText(): Promise<string>;
  close(): Promise<void>;
}

/** An agent over `server`, listening on a free loopback port, logging everything to a file. */
export async function startTestAgent(server: string, settings: Record<string, unknown> = {}, overrides: { refreshMs?: number } = {}): Promise<TestAgent> {
  const home = await mkdtemp(join(tmpdir(), 'keeper-agent-'));
  const logFile = join(home, 'agent.log');
  const config = loadAgentConfig({ listen: '127.0.0.1:0', server, home, ...settings }, {});
  const agent = await startAgent(config, createLogger('trace', 'keeper-agent', logFile), overrides);
  let closed = false;
  return {
    agent,
    base: `http://${agent.address}`,
    logText: () => readFile(logFile, 'utf8').catch(() => ''),
    async close() {
      if (closed) return;
      closed = true;
      await agent.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

/**
 * One HTTP request with full control of the headers (fetch will not send a forged Host), the body
 * sent as given (a string is sent raw, anything else as JSON).
 */
export function call(base: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(path, base);
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
