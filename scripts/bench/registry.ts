import type { Benchmark } from './types.js';
import { pushBenchmark } from './push.js';
import { pullBenchmark } from './pull.js';
import { searchBenchmark } from './search.js';
import { replayBenchmark } from './replay.js';
import { syncBenchmark } from './sync.js';
import { resizeBenchmark } from './resize.js';
import { transferBenchmark } from './transfer.js';
import { replicasBenchmark } from './replicas.js';
import { agentBenchmark } from './agent.js';
import { botBenchmark } from './bot.js';
import { cliBenchmark } from './cli.js';
import { webBenchmark } from './web.js';
import { priorityBenchmark } from './priority.js';
import { failoverBenchmark } from './failover.js';

/** Every benchmark `npm run bench` knows, in the order "all" runs them. Add a file and a line here. */
export const BENCHMARKS: readonly Benchmark[] = [pushBenchmark, pullBenchmark, searchBenchmark, replayBenchmark, syncBenchmark, resizeBenchmark, transferBenchmark, replicasBenchmark, agentBenchmark, botBenchmark, webBenchmark, cliBenchmark, priorityBenchmark, failoverBenchmark];
