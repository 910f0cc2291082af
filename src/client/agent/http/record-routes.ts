import { z } from 'zod';
import { KeeperFailure } from '../../core/failures.js';
import { keepFieldKinds } from '../../core/field-kinds.js';
import type { VaultHandle } from '../../core/vault-handle.js';
import type { HeldUser } from '../../users/held-users.js';
import { callerOf, type AgentApp, type AgentContext } from './context.js';
import { changeBody, createBody, historyAnswer, listQuery, problemAnswer, recordAnswer, recordListAnswer, recordParams, restoreBody, revealQuery, searchAnswer } from './schemas.js';
import { closeList, flagOn, sendJsonBytes, summariesOf, summaryOf, syncViewOf, viewOf, wantsReveal } from './views.js';
import { AnswerBytes, jsonPiece } from './answer-bytes.js';
import { pageByName } from '../../core/name-order.js';
import type { VaultRecord } from '../../../domain/record.js';
import { liveRecord } from '../../core/lookups.js';
import { matchesFilter } from '../../core/record-filter.js';
import { passwordStrengths, type Strength } from '../../core/strength.js';

/** The strength of the password fields written, or none when the estimate fails: it is advice, never a failed save. */
async function strengthOf(fields: Parameters<typeof passwordStrengths>[0], context: string[]): Promise<Strength[]> {
  return passwordStrengths(fields, context).catch(() => []);
}

const problems = { 400: problemAnswer, 401: problemAnswer, 404: problemAnswer, 409: problemAnswer, 423: problemAnswer, 503: problemAnswer };


type HitHow = Omit<z.output<typeof searchAnswer>['hits'][number], 'record'>;

const HITS_OPEN = jsonPiece('{"hits":[');
const RECORDS_OPEN = jsonPiece('{"records":[');
const HIT_OPEN = jsonPiece('{"record":');
const BY_NAME = jsonPiece(',"matched":"name"}');
const BY_FIELD = jsonPiece(',"matched":"field"}');
const COMMA = jsonPiece(',');

/** How a hit matched, as the end of its JSON object (the name case is most hits: encoded once). */
function hitTail(hit: HitHow, answer: AnswerBytes): void {
  if (hit.field === undefined) answer.bytes(hit.matched === 'name' ? BY_NAME : BY_FIELD);
  else answer.text(`,"matched":${JSON.stringify(hit.matched)},"field":${JSON.stringify(hit.field)}}`);
}

/** Pushes an edit now when the server is reachable; otherwise it waits in the replica and the answer says stale. */
async function pushEdit(user: HeldUser): Promise<void> {
  await user.syncNow();
}

/** Records: list (paged), search in memory, read, create, change, delete, history, restore. */
export function recordRoutes(app: AgentApp, context: AgentContext): void {
  app.get('/v1/records', { schema: { summary: 'list records (by name, paged) or search them with ?q=; values are read one record at a time', tags: ['records'], querystring: listQuery, response: { 200: z.union([recordListAnswer, searchAnswer]), ...problems } } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    user.refreshSoon();
    const { q, kind, limit, cursor, tag } = request.query;
    const vault = handle.vault;
    const open = (record: VaultRecord) => vault.open(record);
    const filter = { tag, favourite: flagOn(request.query.favourite) };
    const filtered = filter.tag !== undefined || filter.favourite;
    if (filtered && q !== undefined && q.trim() !== '') throw new KeeperFailure('invalid', 'a search is not filtered by tag or favourite: give q, or tag and favourite, not both');
    if (q !== undefined && q.trim() !== '') {
      if (cursor !== undefined) throw new KeeperFailure('invalid', 'a search is not paged: give a limit instead of a cursor');
      const includeSensitive = flagOn(request.query.sensitive);
      const result = await handle.exclusive(async (v) => v.find(q, kind ? { includeSensitive } : { limit, includeSensitive }));
      const ofKind = kind ? result.hits.filter((hit) => vault.record(hit.id)?.kind === kind) : result.hits;
      const answer = new AnswerBytes().bytes(HITS_OPEN);
      const summaries = summariesOf(vault);
      let first = true;
      for (const hit of ofKind.slice(0, limit)) {
        // (A hit of a record gone since the search, by a sync meanwhile, is left out.)
        if (!summaries.byId(hit.id, answer, first ? null : COMMA, HIT_OPEN)) continue;
        hitTail(hit, answer);
        first = false;
      }
      const rest: Omit<z.output<typeof searchAnswer>, 'hits'> = { total: kind ? ofKind.length : result.total, sync: syncViewOf(user, handle) };
      return sendJsonBytes(reply, closeList(answer, rest));
    }
    const page = pageByName(vault, { kind, limit, cursor, where: filtered ? (record) => matchesFilter(open(record), filter) : undefined });
    const rest: Omit<z.output<typeof recordListAnswer>, 'records'> = { total: page.total, nextCursor: page.nextCursor, sync: syncViewOf(user, handle) };
    const answer = new AnswerBytes().bytes(RECORDS_OPEN);
    const summaries = summariesOf(vault);
    page.records.forEach((record, index) => summaries.element(record, answer, index === 0));
    return sendJsonBytes(reply, closeList(answer, rest));
  });

  app.get('/v1/records/:id', { schema: { summary: 'one record (sensitive values masked unless ?reveal=1)', tags: ['records'], params: recordParams, querystring: revealQuery, response: { 200: recordAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    user.refreshSoon();
    const record = liveRecord(handle.vault, request.params.id);
    return { record: viewOf(handle.vault.open(record), wantsReveal(request.query.reveal)), sync: syncViewOf(user, handle) };
  });

  app.post('/v1/records', { schema: { summary: 'create a record', tags: ['records'], body: createBody, response: { 201: recordAnswer, ...problems } } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const body = request.body;
    const id = await handle.exclusive((vault) =>
      vault.create({
        kind: body.kind,
        name: body.name,
        fields: body.fields,
        ...(body.tags ? { tags: body.tags } : {}),
        ...(body.favourite ? { favourite: true } : {}),
        ...(body.sealAll ? { sealAll: true } : {}),
      }),
    );
    await pushEdit(user);
    const record = liveRecord(handle.vault, id);
    const strength = await strengthOf(body.fields, [body.name]);
    return reply.code(201).header('location', `/v1/records/${id}`).send({ record: viewOf(handle.vault.open(record), false), sync: syncViewOf(user, handle), strength });
  });

  app.patch('/v1/records/:id', { schema: { summary: 'change a record field by field', tags: ['records'], params: recordParams, body: changeBody, response: { 200: recordAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const { id } = request.params;
    const body = request.body;
    await handle.exclusive(async (vault) => {
      const current = liveRecord(handle.vault, id);
      await vault.update(id, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.kind !== undefined ? { kind: body.kind } : {}),
        ...(body.setFields ? { setFields: keepFieldKinds(current.fields, body.setFields) } : {}),
        ...(body.removeFields ? { removeFields: body.removeFields } : {}),
        ...(body.tags ? { tags: body.tags } : {}),
        ...(body.favourite !== undefined ? { favourite: body.favourite } : {}),
      });
    });
    await pushEdit(user);
    const opened = handle.vault.open(liveRecord(handle.vault, id));
    return { record: viewOf(opened, false), sync: syncViewOf(user, handle), strength: await strengthOf(body.setFields ?? [], [opened.name]) };
  });

  app.delete('/v1/records/:id', { schema: { summary: 'delete a record (its history stays; it can be restored)', tags: ['records'], params: recordParams, response: { 204: z.null(), ...problems } } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const { id } = request.params;
    await handle.exclusive(async (vault) => {
      liveRecord(handle.vault, id);
      await vault.delete(id);
    });
    await pushEdit(user);
    return reply.code(204).send(null);
  });

  app.get('/v1/records/:id/history', { schema: { summary: "a record's versions, from the server's log", tags: ['records'], params: recordParams, querystring: revealQuery, response: { 200: historyAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const reveal = wantsReveal(request.query.reveal);
    const versions = await handle.exclusive((vault) => vault.history(request.params.id));
    if (versions.length === 0) throw new KeeperFailure('not-found', `no record ${request.params.id}`);
    return {
      versions: versions.map((v) => ({ version: v.version, at: new Date(v.at).toISOString(), type: v.type, clientId: v.clientId, record: viewOf(handle.vault.open(v.state), reveal) })),
    };
  });

  app.post('/v1/records/:id/restore', { schema: { summary: 'put a record back as it was at a version', tags: ['records'], params: recordParams, body: restoreBody, response: { 200: recordAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const { id } = request.params;
    await handle.exclusive((vault) => vault.restore(id, request.body.version));
    await pushEdit(user);
    return { record: viewOf(handle.vault.open(liveRecord(handle.vault, id)), false), sync: syncViewOf(user, handle) };
  });

  app.get('/v1/deleted-records', { schema: { summary: 'deleted records that can be restored', tags: ['records'], response: { 200: recordListAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const deleted = await handle.exclusive((vault) => vault.deletedRecords());
    return { records: deleted.map((record) => summaryOf(record, (r) => handle.vault.open(r))), total: deleted.length, nextCursor: null, sync: syncViewOf(user, handle) };
  });
}
