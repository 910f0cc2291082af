import { status, type StatusObject, Metadata } from '@grpc/grpc-js';
import { ZodError } from 'zod';
import type { Logger } from 'pino';
import { DomainError } from '../../domain/errors.js';
import { AuthError } from '../auth/errors.js';
import { DuplicateEventId } from '../eventstore/port.js';
import { MutationRejected, SnapshotMoved } from '../vault/vault-service.js';
import { ImageRequestRejected } from '../images/upload-errors.js';
import { BlobNotFound } from '../blobs/blob-store.js';
import { isTransientDatabaseError } from '../sql/transient-errors.js';
import { WatchesDrained } from '../watch/version-watches.js';
import { TooBusy } from './outgoing-scheduler.js';

/** How long a client is asked to wait before retrying a call that met a transient database fault. */
const TRANSIENT_RETRY_AFTER_MS = 500;

/**
 * UNAVAILABLE from a server that is up but cannot serve the call for a moment: the
 * `retry-after-ms` trailer tells clients it is worth retrying soon (and tells them apart from a
 * server they cannot reach at all).
 */
export function unavailableForAMoment(details: string): GrpcStatus {
  const metadata = new Metadata();
  metadata.set('retry-after-ms', String(TRANSIENT_RETRY_AFTER_MS));
  return { code: status.UNAVAILABLE, details, metadata };
}

/** A call that reached a handler without a verified user (the interceptor should make this impossible). */
export class NotAuthenticated extends Error {
  constructor() {
    super('not authenticated: log in first');
    this.name = 'NotAuthenticated';
  }
}

export type GrpcStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata };

/** Every failure becomes a status with a sentence; anything unexpected is logged, never leaked. */
export function toGrpcStatus(error: unknown, logger: Logger): GrpcStatus {
  if (error instanceof NotAuthenticated) return { code: status.UNAUTHENTICATED, details: error.message };
  if (error instanceof ZodError) return { code: status.INVALID_ARGUMENT, details: describeZodError(error) };
  if (error instanceof AuthError) {
    switch (error.code) {
      case 'invalid_argument':
        return { code: status.INVALID_ARGUMENT, details: error.message };
      case 'already_exists':
        return { code: status.ALREADY_EXISTS, details: error.message };
      case 'unauthenticated':
        return { code: status.UNAUTHENTICATED, details: error.message };
      case 'not_found':
        return { code: status.NOT_FOUND, details: error.message };
      case 'throttled': {
        const metadata = new Metadata();
        metadata.set('retry-after-ms', String(error.retryAfterMs ?? 0));
        return { code: status.RESOURCE_EXHAUSTED, details: error.message, metadata };
      }
    }
  }
  if (error instanceof ImageRequestRejected) return { code: imageCode(error), details: error.message };
  if (error instanceof BlobNotFound) return { code: status.NOT_FOUND, details: 'the image data is no longer stored' };
  if (error instanceof MutationRejected) return { code: domainCode(error.reason), details: error.message };
  if (error instanceof SnapshotMoved) return { code: status.ABORTED, details: error.message };
  if (error instanceof WatchesDrained) return unavailableForAMoment(error.message);
  if (error instanceof TooBusy) {
    const metadata = new Metadata();
    metadata.set('retry-after-ms', String(error.retryAfterMs));
    return { code: status.RESOURCE_EXHAUSTED, details: error.message, metadata };
  }
  if (error instanceof DomainError) return { code: domainCode(error), details: error.message };
  if (error instanceof DuplicateEventId) {
    return { code: status.ALREADY_EXISTS, details: 'a mutation id of this push was already used for another change; use a new UUID per mutation' };
  }
  // Already logged once per incident by the database's outage log.
  if (isTransientDatabaseError(error)) return unavailableForAMoment('the server lost its database connection for a moment; retrying the call is safe');
  logger.error({ err: error }, 'internal error');
  return { code: status.INTERNAL, details: 'internal server error' };
}

function imageCode(error: ImageRequestRejected): status {
  switch (error.kind) {
    case 'invalid':
      return status.INVALID_ARGUMENT;
    case 'too_large':
      return status.RESOURCE_EXHAUSTED;
    case 'not_found':
      return status.NOT_FOUND;
    case 'not_ready':
      return status.FAILED_PRECONDITION;
    case 'out_of_range':
      return status.OUT_OF_RANGE;
  }
}

function domainCode(error: DomainError): status {
  switch (error.code) {
    case 'record_exists':
      return status.ALREADY_EXISTS;
    case 'record_not_found':
    case 'image_not_found':
      return status.NOT_FOUND;
    case 'image_exists':
      return status.ALREADY_EXISTS;
    case 'limit_exceeded':
      // Like a too-large upload: a quota, not a state that may change (clients tell it from throttling by retry-after-ms).
      return status.RESOURCE_EXHAUSTED;
    case 'record_deleted':
    case 'key_changed':
      return status.FAILED_PRECONDITION;
  }
}

export function describeZodError(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
