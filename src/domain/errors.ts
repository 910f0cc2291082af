/** A command the domain refuses; `code` lets adapters map it to a transport status. */
export class DomainError extends Error {
  constructor(
    readonly code: 'record_exists' | 'record_not_found' | 'record_deleted' | 'limit_exceeded' | 'key_changed',
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
