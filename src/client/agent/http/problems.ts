import type { FastifyReply } from 'fastify';
import { failureOf, type FailureKind, type KeeperFailure } from '../../core/failures.js';

/** The HTTP status of each kind of failure the core knows. */
const STATUS: Record<FailureKind, number> = {
  'not-logged-in': 401,
  'session-ended': 401,
  locked: 423,
  'wrong-secret': 403,
  refused: 403,
  'not-found': 404,
  ambiguous: 409,
  invalid: 400,
  conflict: 409,
  offline: 503,
  unavailable: 503,
  throttled: 429,
  'too-large': 413,
  damaged: 502,
  failed: 500,
};

const TITLE: Record<FailureKind, string> = {
  'not-logged-in': 'Not logged in',
  'session-ended': 'Session ended',
  locked: 'Vault locked',
  'wrong-secret': 'Wrong secret word',
  refused: 'Refused',
  'not-found': 'Not found',
  ambiguous: 'Ambiguous reference',
  invalid: 'Invalid request',
  conflict: 'Conflict',
  offline: 'Server unreachable',
  unavailable: 'Server unavailable',
  throttled: 'Too many attempts',
  'too-large': 'Too large',
  damaged: 'Damaged data',
  failed: 'Failed',
};

/** A stable problem type per failure kind (RFC 9457): callers switch on it, not on the sentence. */
export function problemType(kind: FailureKind): string {
  return `urn:keeper:problem:${kind}`;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  kind: FailureKind;
  retryAfterSeconds?: number;
}

export function problemOf(failure: KeeperFailure, status = STATUS[failure.kind]): Problem {
  const problem: Problem = { type: problemType(failure.kind), title: TITLE[failure.kind], status, detail: failure.message, kind: failure.kind };
  if (failure.detail.retryAfterMs !== undefined) problem.retryAfterSeconds = Math.max(1, Math.ceil(failure.detail.retryAfterMs / 1000));
  return problem;
}

/** Sends any error as application/problem+json; a bug is a 500 whose sentence gives nothing away. */
export function sendProblem(reply: FastifyReply, error: unknown, status?: number): FastifyReply {
  const failure = failureOf(error);
  const problem = problemOf(failure, status);
  if (problem.status === 500) problem.detail = 'the agent failed to serve this request; nothing was changed by it';
  if (problem.retryAfterSeconds !== undefined) void reply.header('retry-after', String(problem.retryAfterSeconds));
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer realm="keeper-agent"');
  return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}
