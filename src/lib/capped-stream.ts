import { Transform } from 'node:stream';

/** Passes bytes through and fails with `tooLarge()` once more than `limit` have passed (a body, a download). */
export function capped(limit: number, tooLarge: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) done(tooLarge());
      else done(null, chunk);
    },
  });
}
