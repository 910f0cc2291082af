/**
 * Builds the web page (src/client/web) into dist/web, where the agent serves it from. Run by
 * `npm ci`'s prepare step, so a fresh clone serves the page with no other command; also
 * `npm run build:web` after changing the page.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const WEB_SOURCE = `${REPO}src/client/web`;
export const WEB_OUT = `${REPO}dist/web`;

export async function buildWebPage(outDir: string = WEB_OUT): Promise<void> {
  await build({
    configFile: false,
    root: WEB_SOURCE,
    base: '/',
    logLevel: 'warn',
    publicDir: false,
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      // Nothing inlined: the page's CSP takes only the agent's own files.
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
      sourcemap: false,
    },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWebPage().catch((error: unknown) => {
    process.stderr.write(`keeper: the web page did not build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
