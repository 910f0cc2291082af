import type { RecordCommand } from './commands.js';
import { decide, evolve, type RecordState } from './decider.js';

/**
 * A record as the client sees it with one of its own pending commands applied, before the server
 * has given the change a version. Uses the same decide/evolve as the server; throws DomainError
 * for a command the server would refuse.
 */
export function applyLocally(state: RecordState | undefined, command: RecordCommand, at: number, version: number): RecordState | undefined {
  const decided = decide(command, state);
  return evolve(state, {
    ...decided,
    id: command.mutationId,
    version,
    metadata: { mutationId: command.mutationId, recordId: command.recordId, clientId: 'local', at },
  });
}
