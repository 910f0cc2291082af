import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { PRE_FRAMED } from '../../wire/image-chunk-codec.js';

let installed: boolean | undefined;

/**
 * Lets a download chunk framed in place (image-chunk-codec's framedChunk) go to HTTP/2 as it is.
 * grpc-js frames every message it sends into a fresh buffer (its serializeMessage: allocate, copy):
 * for downloads, a fresh 64 KiB ArrayBuffer per chunk, and V8 counts those as external memory and
 * scavenges every few tens of MB of them (under the priority bench's image load, a scavenge every
 * 150-200 ms, each pausing the data requests being answered). The file's bytes are read straight
 * into the buffer the frame is written in, so a chunk costs no allocation and no copy.
 *
 * This replaces a method grpc-js does not publish; a test checks it is in place, so an upgrade
 * that moves it fails there. Without it the chunks are still right, framed by grpc-js's copy: the
 * codec gives the serializer the message's bytes as a view. The service's serializer still sees
 * every message (the byte counters). Answers false when the method was not found.
 */
export function sendPreFramedChunks(): boolean {
  if (installed !== undefined) return installed;
  const prototype = (BaseServerInterceptingCall as unknown as { prototype: { serializeMessage?: unknown } }).prototype;
  const original = prototype.serializeMessage;
  if (typeof original !== 'function') return (installed = false);
  prototype.serializeMessage = function serializeMessage(this: { handler: { serialize(value: unknown): Buffer } }, value: unknown): Buffer {
    const framed = (value as { [PRE_FRAMED]?: Buffer } | null)?.[PRE_FRAMED];
    if (framed === undefined) return (original as (value: unknown) => Buffer).call(this, value);
    this.handler.serialize(value);
    return framed;
  };
  return (installed = true);
}
