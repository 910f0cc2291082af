import { loadAgentConfig } from '../config/agent-config.js';
import { startAgent } from '../client/agent/start-agent.js';
import { createLogger } from '../logging.js';
import { ensureWritableDirectory } from '../lib/writable-dir.js';
import { untilSignal } from './until-signal.js';

/** `keeper agent`: the local HTTP API over the configured Keeper server, until Ctrl-C. */
export async function agentCommand(flags: Record<string, unknown>, out: (text: string) => void): Promise<void> {
  const config = loadAgentConfig(flags, process.env);
  await ensureWritableDirectory(config.home, '--home / KEEPER_HOME');
  const logger = createLogger(config.logLevel, 'keeper-agent');
  const agent = await startAgent(config, logger);
  const scheme = config.tlsCert ? 'https' : 'http';
  out(`Keeper agent on ${scheme}://${agent.address} over the server at ${config.server}`);
  out(`  API description ${scheme}://${agent.address}/v1/openapi.json   (Ctrl-C stops the agent)`);
  await untilSignal();
  await agent.stop();
  out('Keeper agent stopped.');
}
