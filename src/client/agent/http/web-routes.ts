import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AgentApp } from './context.js';

/** Where `npm run build:web` (run by npm ci's prepare step) puts the page. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../../dist/web', import.meta.url));

/**
 * The page may load only what the agent itself serves: no inline script or style, no other host,
 * no framing. Images may also be blob: URLs (a picture chosen for upload is previewed from one).
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

interface Asset {
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  /** Named by its content's hash (Vite's assets/): it never changes under that name. */
  immutable: boolean;
  html: boolean;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

/** Every file of the built page, read once: the set of URLs is fixed at start, so no path from a request ever reaches the file system. */
function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const path of filesUnder(root)) {
    const url = '/' + relative(root, path).split(sep).join('/');
    const ext = extname(path);
    const body = readFileSync(path);
    const asset: Asset = {
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: url.startsWith('/assets/'),
      html: ext === '.html',
    };
    if (COMPRESSIBLE.has(ext) && body.length > 512) {
      asset.br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } });
      asset.gzip = gzipSync(body, { level: 9 });
    }
    assets.set(url, asset);
  }
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  void reply.type(asset.type).header('etag', asset.etag).header('vary', 'accept-encoding');
  // A hashed asset is cached for good; the page itself is checked each time, so a new build is picked up at once.
  void reply.header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (asset.html) void reply.header('content-security-policy', PAGE_CSP).header('cross-origin-opener-policy', 'same-origin');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (asset.br && /\bbr\b/.test(accepted)) return reply.header('content-encoding', 'br').send(asset.br);
  if (asset.gzip && /\bgzip\b/.test(accepted)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.body);
}

/**
 * The web page, served at / from the same origin as the API (so the API's Origin checks and the
 * SameSite cookie need no exceptions). Without a build it says how to make one.
 */
export function webRoutes(app: AgentApp, root: string = DEFAULT_WEB_ROOT): void {
  const hidden = { schema: { hide: true } };
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', hidden, async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The web page is not built in this copy of Keeper: run `npm run build:web` (npm ci runs it), then reload.\n'),
    );
    return;
  }
  const assets = loadAssets(root);
  const index = assets.get('/index.html')!;
  app.get('/', hidden, async (request, reply) => send(request, reply, index));
  for (const [url, asset] of assets) app.get(url, hidden, async (request, reply) => send(request, reply, asset));
}
