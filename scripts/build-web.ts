/**
 * Builds the web page (src/client/web) into dist/web, where the agent serves it from. Run by
 * `npm ci`'s prepare step, so a fresh clone serves the page with no other command; also
 * `npm run build:web` after changing the page.
 */
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const WEB_SOURCE = `${REPO}src/client/web`;
export const WEB_OUT = `${REPO}dist/web`;

export async function buildWebPage(outDir: string = WEB_OUT): Promise<void> {
  const { build } = await import('vite');
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
  const vitePresent = await import('vite').then(
    () => true,
    () => false,
  );
  // An install without dev dependencies (npm ci --omit=dev) has no Vite: it serves no page, and says so at /.
  if (!vitePresent) {
    process.stderr.write('keeper: Vite is not installed (dev dependencies left out), so the web page is not built; the agent says so at /\n');
    process.exit(0);
  }
  buildWebPage().catch((error: unknown) => {
    process.stderr.write(`keeper: the web page did not build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
