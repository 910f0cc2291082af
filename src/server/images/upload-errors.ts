/**
 * Why an upload or download was refused, in words for the user; `kind` picks the transport status.
 * Nothing of a refused upload is kept: its temporary blob is removed before this is thrown.
 */
export class ImageRequestRejected extends Error {
  constructor(
    readonly kind: 'invalid' | 'too_large' | 'not_found' | 'not_ready' | 'out_of_range',
    message: string,
  ) {
    super(message);
    this.name = 'ImageRequestRejected';
  }
}
