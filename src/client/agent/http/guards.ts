import type { FastifyRequest } from 'fastify';
import type { AgentApp } from './context.js';
import { KeeperFailure } from '../../core/failures.js';
import { sendProblem } from './problems.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request comes from the agent's own page: a change carries the page's Origin, a read is
     * not marked by the browser as made from another site. Only then does the session cookie count.
     */
    fromOwnPage: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardOptions {
  /** host:port values the Host header may carry, lower-case (filled once the listen port is known). */
  allowedHosts: ReadonlySet<string>;
  /** Origins a browser may call from (CORS); the agent's own origin is always allowed. */
  allowedOrigins: readonly string[];
}

/**
 * A local service that holds decrypted secrets must not be reachable from a web page the user
 * happens to visit: the Host header must name the agent (DNS rebinding), a browser request from
 * another origin is refused (CSRF), and no CORS is granted unless an origin is named.
 */
export function installGuards(app: AgentApp, options: GuardOptions): void {
  const hosts = options.allowedHosts;
  const origins = new Set(options.allowedOrigins);
  const isOwn = (origin: string) => {
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && hosts.has(url.host.toLowerCase());
    } catch {
      return false;
    }
  };

  app.decorateRequest('fromOwnPage', false);
  // (A callback hook, not an async one: it runs on every request, and has nothing to wait for.)
  app.addHook('onRequest', (request, reply, done) => {
    if (guard(request, reply) === undefined) done();
  });

  /** Answers a request refused here (the reply then); undefined lets it on. */
  function guard(request: FastifyRequest, reply: import('fastify').FastifyReply): import('fastify').FastifyReply | undefined {
    setSecurityHeaders(reply);
    request.fromOwnPage = isFromOwnPage(request, isOwn);
    const host = (request.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) {
      return sendProblem(reply, new KeeperFailure('refused', 'the Host header does not name this agent; requests are only served for its own address'), 421);
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !isOwn(origin) && !origins.has(origin)) {
      return sendProblem(reply, new KeeperFailure('refused', 'requests from another origin are refused'), 403);
    }
    if (origin !== undefined && origins.has(origin)) {
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-allow-credentials', 'true');
      if (request.method === 'OPTIONS') {
        return reply
          .header('access-control-allow-methods', 'GET, POST, PATCH, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type')
          .header('access-control-max-age', '600')
          .code(204)
          .send();
      }
    }
    if (isBrowserCrossSite(request)) return sendProblem(reply, new KeeperFailure('refused', 'requests from another site are refused'), 403);
    return undefined;
  }
}

/**
 * SameSite=Strict keeps other sites' requests from carrying the cookie, but another page of the
 * same site (another port on localhost) is not another site: so a change must name the agent as
 * its Origin, which browsers send with every such request, and a read must not be one the browser
 * marks as made by another origin.
 */
function isFromOwnPage(request: FastifyRequest, isOwn: (origin: string) => boolean): boolean {
  const origin = request.headers.origin;
  if (!SAFE_METHODS.has(request.method)) return origin !== undefined && isOwn(origin);
  const site = request.headers['sec-fetch-site'];
  return (site === undefined || site === 'same-origin' || site === 'none') && (origin === undefined || isOwn(origin));
}

/** Fetch metadata: a browser says when a request comes from another site, even without an Origin (a GET from a page). */
function isBrowserCrossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  return site === 'cross-site' && !request.headers.origin;
}

function setSecurityHeaders(reply: import('fastify').FastifyReply): void {
  void reply
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-resource-policy', 'same-origin')
    .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
}
