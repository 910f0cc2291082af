import type { Server } from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';

/**
 * How much an upload may send before the server says "more" (HTTP/2 flow control, per stream
 * and per connection). HTTP/2's default is 64 KiB: smaller than one image chunk, so every chunk
 * of an upload waited for a WINDOW_UPDATE from the server. The clients ask for the same window.
 */
export const RECEIVE_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * grpc-js reads `grpc-node.flow_control_window` on the client side only (its server pins Node's
 * 64 KiB default; grpc/grpc-node#3058 would change that). Until it does, each HTTP/2 session the
 * server accepts is told the larger window here. This reaches into the Server's map of its HTTP/2
 * servers, which grpc-js does not publish: a test checks the window a client is offered, so an
 * upgrade that moves it fails there instead of making uploads slow without a word. In production
 * such an upgrade costs upload speed, not the server: false says the window was left as it was.
 */
export function widenReceiveWindow(server: Server, bytes = RECEIVE_WINDOW_BYTES): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const http2Server of (http2Servers as Map<Http2Server, unknown>).keys()) {
    http2Server.on('session', (session: ServerHttp2Session) => {
      // The stream window goes out as a SETTINGS frame, the connection's as a WINDOW_UPDATE.
      session.settings({ initialWindowSize: bytes });
      session.setLocalWindowSize(bytes);
    });
  }
  return true;
}
