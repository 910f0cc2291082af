import { MemoryJobQueue, MemoryJobStore } from '../../src/imaging/queue/memory-queue.js';
import { queueContract } from './queue-contract.js';
import { testLogger } from './support/jobs.js';

queueContract({
  name: 'in-process (MemoryJobQueue)',
  async createWorld(settings) {
    const store = new MemoryJobStore();
    const queues: MemoryJobQueue[] = [];
    return {
      async open() {
        const queue = new MemoryJobQueue({ store, settings, logger: testLogger() });
        queues.push(queue);
        return queue;
      },
      async publishRaw(bytes) {
        store.enqueue(bytes, undefined, 60_000);
      },
      async deadLetters() {
        return store.deadLetters();
      },
      async backlog() {
        return store.size;
      },
      async dispose() {
        await Promise.all(queues.map((queue) => queue.close()));
      },
    };
  },
});
