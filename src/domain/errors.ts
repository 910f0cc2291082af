export type DomainErrorCode =
  | 'record_exists'
  | 'record_not_found'
  | 'record_deleted'
  | 'limit_exceeded'
  | 'key_changed'
  | 'image_exists'
  | 'image_not_found';

/** A command the domain refuses; `code` lets adapters map it to a transport status. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
