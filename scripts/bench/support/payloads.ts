import { randomBytes, randomUUID } from 'node:crypto';
import type { Field, RecordKind } from '../../../src/domain/record.js';

/** The small record a push benchmark creates: a short name and two small fields. */
export function smallRecord(n: number): { kind: RecordKind; name: string; fields: Field[] } {
  return {
    kind: 'login',
    name: `site ${n}`,
    fields: [
      { name: 'username', value: `user${n}@example.com`, sensitive: false },
      { name: 'password', value: randomBytes(12).toString('base64'), sensitive: true },
    ],
  };
}

/** The stored form (data, metadata) of a RecordCreated for `smallRecord`, as the server writes it. */
export function createdEventRow(n: number, clientId: string): { id: string; type: string; data: unknown; metadata: Record<string, unknown> } {
  const id = randomUUID();
  const recordId = randomUUID();
  return {
    id,
    type: 'RecordCreated',
    data: { recordId, ...smallRecord(n) },
    metadata: { mutationId: id, recordId, clientId, at: Date.now() },
  };
}
