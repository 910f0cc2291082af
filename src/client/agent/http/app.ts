import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { KeeperFailure, failureOf } from '../../core/failures.js';
import type { Spool } from '../../core/spool.js';
import type { AgentApp, AgentContext } from './context.js';
import { installGuards, type GuardOptions } from './guards.js';
import { sendProblem } from './problems.js';
import { eventRoutes } from './event-routes.js';
import { imageRoutes } from './image-routes.js';
import { recordRoutes } from './record-routes.js';
import { sessionRoutes } from './session-routes.js';
import { vaultRoutes } from './vault-routes.js';
import { everydayRoutes } from './everyday-routes.js';
import { kindRoutes } from './kind-routes.js';
import { sessionCookie } from './session-cookie.js';
import { webRoutes } from './web-routes.js';

export interface AgentAppOptions extends GuardOptions {
  context: AgentContext;
  logger: Logger;
  /** Largest JSON body taken, in bytes. */
  bodyLimit?: number;
  /** Where uploads and downloads pass through. */
  spool: Spool;
  /** Largest picture taken, in bytes (the server has its own limit too). */
  uploadLimit?: number;
  /** The agent's certificate and key: required beyond loopback (checked by the config). */
  https?: { cert: Buffer; key: Buffer } | undefined;
  /** The built web page (default: dist/web). */
  webRoot?: string;
}

/** Fastify's own refusals (bad JSON, a body too large, a wrong content type), as failures with a sentence. */
function frameworkFailure(error: FastifyError): KeeperFailure | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KeeperFailure('invalid', 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KeeperFailure('too-large', 'the body is larger than this agent takes');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KeeperFailure('invalid', 'send the body as application/json');
    default:
      return error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? new KeeperFailure('invalid', 'the request is malformed') : undefined;
  }
}

/**
 * The agent's HTTP API over the client core: every body validated by a zod schema, which also
 * makes the OpenAPI document; every failure a problem+json with one sentence; no request line,
 * query or body in any log line.
 */
export async function buildAgentApp(options: AgentAppOptions): Promise<{ app: AgentApp; routes: Array<{ method: string; url: string }> }> {
  const app = Fastify({
    loggerInstance: options.logger as unknown as import('fastify').FastifyBaseLogger,
    // Fastify's request lines carry the URL with its query (a search is a query): logged here instead, without it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    trustProxy: false,
    return503OnClosing: true,
    // (Typed as plain HTTP either way: the routes do not care which.)
    ...(options.https ? ({ https: options.https } as object) : {}),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // Answers are built by typed code from the same schemas (the compiler checks their shape);
  // checking every answer again at run time cost more than the rest of a read, so they are
  // written as they are. Bodies coming in are checked by the schemas, always.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Keeper agent', version: '1.0.0', description: "A local JSON API over Keeper's client core: many logged-in users, search in memory, decryption in the agent." },
      components: { securitySchemes: { agentToken: { type: 'http', scheme: 'bearer' } } },
      security: [{ agentToken: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Cookies are read only where the session cookie may stand for a token (session-cookie.ts).
  await app.register(fastifyCookie, { hook: false });
  installGuards(app, options);
  // (Only when request lines are logged at all: at the default level the hook would be work for nothing on every request.)
  if (options.logger.isLevelEnabled('info')) {
    app.addHook('onResponse', (request, reply, done) => {
      // The route's pattern, never the URL: ids are fine, queries are not.
      request.log.info({ method: request.method, route: request.routeOptions.url ?? '(none)', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
      done();
    });
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const sentence = error.validation.map((issue) => `${where}${issue.instancePath.replaceAll('/', '.')}: ${issue.message}`).join('; ');
      return sendProblem(reply, new KeeperFailure('invalid', sentence));
    }
    const failure = frameworkFailure(error) ?? failureOf(error);
    if (failure.kind === 'failed') request.log.error({ err: error, route: request.routeOptions.url }, 'request failed');
    return sendProblem(reply, failure);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new KeeperFailure('not-found', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`)));

  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const context: AgentContext = { ...options.context, cookie: sessionCookie(options.https !== undefined) };
  sessionRoutes(app, context);
  vaultRoutes(app, context);
  recordRoutes(app, context);
  eventRoutes(app, context);
  imageRoutes(app, { ...context, spool: options.spool, uploadLimit: options.uploadLimit ?? 30 * 1024 * 1024 });
  kindRoutes(app);
  everydayRoutes(app, context);
  webRoutes(app, options.webRoot);
  return { app, routes };
}
