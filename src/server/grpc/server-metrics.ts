import { Counter, Gauge, Registry } from 'prom-client';
import { ResponderBuilder, ServerInterceptingCall, status, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';
import type { OutgoingScheduler } from './outgoing-scheduler.js';

const IMAGE_METHOD = '/keeper.v1.ImageService/DownloadImage';

/**
 * The server's counters in Prometheus form: calls by method and status, the scheduler's queues
 * (data requests in flight, image chunks waiting and being written, paused downloads) and bytes
 * sent by priority. Labels are method paths and status names only: nothing a user sent ever becomes a label.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'method' | 'code'>;
  private readonly bytesOut: Counter<'priority'>;

  constructor(scheduler: OutgoingScheduler) {
    const registers = [this.registry];
    this.calls = new Counter({ name: 'keeper_grpc_calls_total', help: 'gRPC calls answered, by method and status code', labelNames: ['method', 'code'], registers });
    this.bytesOut = new Counter({ name: 'keeper_bytes_out_total', help: 'Response bytes sent, by priority (data or image)', labelNames: ['priority'], registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('keeper_data_requests_in_flight', 'Data requests being answered now (image chunks wait for them)', () => scheduler.snapshot().dataInFlight);
    gauge('keeper_image_downloads_in_flight', 'Image downloads streaming now', () => scheduler.snapshot().downloads);
    gauge('keeper_image_chunks_queued', 'Image chunks waiting for their turn (at most one per download)', () => scheduler.snapshot().queuedChunks);
    gauge('keeper_image_chunks_writing', 'Image chunks being written now (a few at most, server-wide: what a data request finds ahead of it)', () => scheduler.snapshot().writingChunks);
    gauge('keeper_image_streams_paused', 'Downloads held back because data requests are being answered', () => scheduler.snapshot().pausedImageStreams);
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    total('keeper_image_stream_pauses_total', 'Times a download was held back for data requests', () => scheduler.snapshot().pauses);
    total('keeper_refused_data_requests_total', 'Data requests refused (RESOURCE_EXHAUSTED) past the bound of requests in flight', () => scheduler.snapshot().refused.data);
    total('keeper_refused_downloads_total', 'Downloads refused (RESOURCE_EXHAUSTED) past the bounds of downloads at once', () => scheduler.snapshot().refused.image);
  }

  /** Counts every call's final status by method. */
  interceptor(): ServerInterceptor {
    return (method, call) => {
      const responder = new ResponderBuilder()
        .withSendStatus((sent, next) => {
          this.calls.inc({ method: method.path, code: status[sent.code] ?? String(sent.code) });
          next(sent);
        })
        .build();
      return new ServerInterceptingCall(call, responder);
    };
  }

  /** The service with every response's encoded size counted. */
  countingBytes<S extends ServiceDefinition>(service: S): S {
    const counted: Record<string, ServiceDefinition[string]> = {};
    for (const [name, method] of Object.entries(service)) {
      const priority = method.path === IMAGE_METHOD ? 'image' : 'data';
      counted[name] = {
        ...method,
        responseSerialize: (value: unknown) => {
          const bytes = method.responseSerialize(value);
          this.bytesOut.inc({ priority }, bytes.length);
          return bytes;
        },
      };
    }
    return counted as unknown as S;
  }
}
