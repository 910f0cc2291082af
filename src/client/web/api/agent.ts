import type * as z from 'zod/mini';
import { asSentence } from '../lib/sentence.js';
import * as s from './schemas.js';

/** A refusal from the agent: its kind (the problem's stable kind) and its sentence. */
export class AgentError extends Error {
  constructor(
    readonly kind: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const AGENT_DOWN = 'The agent does not answer: is keeper agent (or keeper up) still running? This page tries again by itself.';

/** The agent could not be reached at all (stopped, restarting). */
export class AgentDown extends Error {
  constructor() {
    super(AGENT_DOWN);
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

async function call<S extends z.ZodMiniType>(method: string, path: string, schema: S | null, body?: unknown, signal?: AbortSignal): Promise<z.infer<S>> {
  let response: Response;
  try {
    // The session cookie goes along by itself (same origin); the browser adds this page's Origin to every change.
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new AgentDown();
  }
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const parsed = s.problem.safeParse(json);
    if (parsed.success) throw new AgentError(parsed.data.kind, response.status, asSentence(parsed.data.detail));
    throw new AgentError('failed', response.status, `The agent answered ${response.status} without saying why.`);
  }
  if (schema === null) return undefined as z.infer<S>;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new AgentError('damaged', response.status, "The agent's answer is not in the form this page expects; reload the page (it may be older than the agent).");
  return parsed.data as z.infer<S>;
}

const enc = encodeURIComponent;

export const agent = {
  status: (signal?: AbortSignal) => call('GET', '/v1/status', s.statusAnswer, undefined, signal),
  kinds: () => call('GET', '/v1/kinds', s.kindsAnswer),
  login: (login: string, password: string) => call('POST', '/v1/sessions', s.sessionAnswer, { login, password, cookie: true }),
  register: (login: string, password: string) => call('POST', '/v1/users', s.sessionAnswer, { login, password, cookie: true }),
  logout: () => call('DELETE', '/v1/sessions/current', null),
  unlock: (secret: string) => call('POST', '/v1/unlock', null, { secret }),
  lock: () => call('POST', '/v1/lock', null),
  sync: () => call('POST', '/v1/sync', s.syncAnswer),
  list: (options: { kind?: string | undefined; cursor?: string | undefined; limit: number }, signal?: AbortSignal) => {
    const query = new URLSearchParams({ limit: String(options.limit) });
    if (options.kind) query.set('kind', options.kind);
    if (options.cursor) query.set('cursor', options.cursor);
    return call('GET', `/v1/records?${query}`, s.listAnswer, undefined, signal);
  },
  search: (q: string, options: { kind?: string | undefined; limit: number }, signal?: AbortSignal) => {
    const query = new URLSearchParams({ q, limit: String(options.limit) });
    if (options.kind) query.set('kind', options.kind);
    return call('GET', `/v1/records?${query}`, s.searchAnswer, undefined, signal);
  },
  record: (id: string, reveal = false, signal?: AbortSignal) => call('GET', `/v1/records/${enc(id)}${reveal ? '?reveal=1' : ''}`, s.recordAnswer, undefined, signal),
  create: (body: { kind: string; name: string; fields: Array<{ name: string; value: string; sensitive: boolean }> }) => call('POST', '/v1/records', s.recordAnswer, body),
  change: (id: string, body: { name?: string; kind?: string; setFields?: Array<{ name: string; value: string; sensitive: boolean }>; removeFields?: string[] }) =>
    call('PATCH', `/v1/records/${enc(id)}`, s.recordAnswer, body),
  remove: (id: string) => call('DELETE', `/v1/records/${enc(id)}`, null),
  history: (id: string) => call('GET', `/v1/records/${enc(id)}/history`, s.historyAnswer),
  restore: (id: string, version: number) => call('POST', `/v1/records/${enc(id)}/restore`, s.recordAnswer, { version }),
  deleted: () => call('GET', '/v1/deleted-records', s.listAnswer),
  images: (recordId: string, signal?: AbortSignal) => call('GET', `/v1/records/${enc(recordId)}/images`, s.imagesAnswer, undefined, signal),
  removeImage: (imageId: string) => call('DELETE', `/v1/images/${enc(imageId)}`, null),
};

export function imageUrl(imageId: string, rendition: 'original' | 'cover' | 'compact'): string {
  return `/v1/images/${enc(imageId)}/${rendition}`;
}
