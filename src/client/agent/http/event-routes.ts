import { callerOf, type AgentApp, type AgentContext } from './context.js';

const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events: a `changed` event whenever the caller's user's data changed (a sync brought
 * something, the vault was locked or unlocked), so a page refreshes without polling. The stream
 * ends when the user's last caller logs out.
 */
export function eventRoutes(app: AgentApp, context: AgentContext): void {
  app.get('/v1/events', { schema: { summary: "a stream of Server-Sent Events: 'changed' when the user's data changed", tags: ['vault'] } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    await user.vault();
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ userId: user.userId })}\n\n`);
    const onChanged = (change: unknown) => raw.write(`event: changed\ndata: ${JSON.stringify(change)}\n\n`);
    const onEnded = () => raw.end();
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    user.events.on('changed', onChanged);
    user.events.once('ended', onEnded);
    const unfollow = user.follow();
    const stop = () => {
      unfollow();
      clearInterval(heartbeat);
      user.events.off('changed', onChanged);
      user.events.off('ended', onEnded);
    };
    request.raw.once('close', stop);
    raw.once('close', stop);
  });
}
