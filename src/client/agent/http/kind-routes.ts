import { z } from 'zod';
import { RECORD_KINDS } from '../../../domain/limits.js';
import { RECORD_TEMPLATES } from '../../../domain/record-templates.js';
import { recordKindSchema } from '../../../domain/record.js';
import type { AgentApp } from './context.js';

const kindsAnswer = z.object({
  kinds: z.array(z.object({ kind: recordKindSchema, fields: z.array(z.object({ name: z.string().describe('empty: a field the user names'), sensitive: z.boolean() })) })),
});

/** The kinds of record and the fields a new one of each kind starts with (the same template every face offers). */
export function kindRoutes(app: AgentApp): void {
  const kinds = RECORD_KINDS.map((kind) => ({ kind, fields: RECORD_TEMPLATES[kind].map(([name, sensitive]) => ({ name, sensitive })) }));
  app.get('/v1/kinds', { schema: { summary: 'kinds of record, each with the fields a new one starts with', tags: ['records'], security: [], response: { 200: kindsAnswer } } }, async () => ({ kinds }));
}
