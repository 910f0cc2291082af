import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { expect } from 'chai';

/**
 * The layers as README draws them, checked on the real import graph of src/: faces are thin
 * layers over one client core and never import each other, the core imports no face, server and
 * client meet only in the shared folders, the domain imports nothing of anyone, and no two
 * folders import each other round a circle.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const FACES = ['src/client/cli', 'src/client/tui', 'src/client/agent', 'src/client/web', 'src/client/bot'];
/** The processes' entry points, the only places that may start a face. */
const COMPOSITION_ROOTS = ['src/cli'];

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') || entry.name.endsWith('.tsx') ? [path] : [];
  });
}

/** The file an import names: `.js` stands for the `.ts` or `.tsx` beside it (the web page's components are `.tsx`). */
function resolveImport(from: string, specifier: string): string {
  const base = normalize(join(dirname(from), specifier.replace(/\.js$/, '')));
  for (const candidate of [`${base}.ts`, `${base}.tsx`, base]) if (existsSync(join(ROOT, candidate))) return candidate;
  return `${base}.ts`;
}

/** Every relative import (static, re-export or dynamic) of every file, as file -> file. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  const pattern = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const file of sourceFiles('src')) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(pattern)) edges.push({ from: file, to: resolveImport(file, match[1]!) });
  }
  return edges;
}

/** Every package a file imports by name (node: built-ins included). */
function packageImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^.'"][^'"]*)['"]/g)].map((m) => m[1]!);
}

/** Packages the web page's browser bundle may take: its UI library and zod's small build. */
const BROWSER_PACKAGES = [/^preact(\/|$)/, /^zod\/mini$/];

function within(file: string, folder: string): boolean {
  return file.startsWith(`${folder}/`);
}

function faceOf(file: string): string | undefined {
  return FACES.find((face) => within(file, face));
}

/** Folders that reach each other round a circle (strongly connected components of two or more). */
function folderCircles(edges: Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = dirname(from);
    const b = dirname(to);
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) circles.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return circles;
}

function describeEdges(edges: Edge[]): string {
  return edges.map((e) => `${e.from} -> ${e.to}`).join('\n');
}

describe('the import graph of src/', () => {
  const edges = importGraph();

  it('is read from the sources (a sanity check on the reader)', () => {
    expect(edges.length).to.be.greaterThan(300);
    expect(edges).to.deep.include({ from: 'src/cli/main.ts', to: 'src/client/cli/commands.ts' });
  });

  it('has no face importing another face', () => {
    const crossing = edges.filter((e) => faceOf(e.from) && faceOf(e.to) && faceOf(e.from) !== faceOf(e.to));
    expect(crossing, describeEdges(crossing)).to.deep.equal([]);
  });

  it('has faces started only by the composition roots, and the core importing no face', () => {
    const intoFaces = edges.filter((e) => faceOf(e.to) && !faceOf(e.from) && !COMPOSITION_ROOTS.some((root) => within(e.from, root)));
    expect(intoFaces, describeEdges(intoFaces)).to.deep.equal([]);
  });

  it('keeps server and client apart: they share only the domain, the wire codec, generated code, config and lib', () => {
    const crossing = edges.filter(
      (e) => (within(e.from, 'src/client') && ['src/server', 'src/projections', 'src/read-model', 'src/audit', 'src/composition'].some((folder) => within(e.to, folder))) || (within(e.from, 'src/server') && within(e.to, 'src/client')),
    );
    expect(crossing, describeEdges(crossing)).to.deep.equal([]);
  });

  it('has a server that imports neither the projector nor the audit tool (they build on it, not it on them)', () => {
    const upward = edges.filter((e) => within(e.from, 'src/server') && (within(e.to, 'src/projections') || within(e.to, 'src/audit') || within(e.to, 'src/composition')));
    expect(upward, describeEdges(upward)).to.deep.equal([]);
  });

  it('has every reader of the event log going through the port (no SQL event store outside its factory and the audit snapshot)', () => {
    const direct = edges.filter((e) => e.to === 'src/server/eventstore/sql.ts' && !['src/server/eventstore/open-event-store.ts', 'src/audit/audit-source.ts'].includes(e.from) && within(e.from, 'src'));
    expect(direct, describeEdges(direct)).to.deep.equal([]);
  });

  it('has a domain that imports only itself', () => {
    const outward = edges.filter((e) => within(e.from, 'src/domain') && !within(e.to, 'src/domain'));
    expect(outward, describeEdges(outward)).to.deep.equal([]);
  });

  it('has a web page whose browser code reaches only itself and the pure domain, and takes no node-only package', () => {
    const web = 'src/client/web';
    const reached = new Set<string>();
    const queue = sourceFiles(web);
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      for (const edge of edges) if (edge.from === file) queue.push(edge.to);
    }
    const outside = [...reached].filter((file) => !within(file, web) && !within(file, 'src/domain'));
    expect(outside, outside.join('\n')).to.deep.equal([]);
    // What the bundle takes by name: the domain's schemas (zod's full build) stay out by importing only its plain modules.
    const foreign = [...reached].flatMap((file) => packageImports(file).filter((name) => !BROWSER_PACKAGES.some((allowed) => allowed.test(name))).map((name) => `${file} -> ${name}`));
    expect(foreign, foreign.join('\n')).to.deep.equal([]);
    expect(reached.size, 'the web page is read (a sanity check)').to.be.greaterThan(15);
  });

  it('has no import circles between folders', () => {
    expect(folderCircles(edges)).to.deep.equal([]);
  });

  it('finds a circle when there is one (the check itself can fail)', () => {
    const circles = folderCircles([
      { from: 'src/a/x.ts', to: 'src/b/y.ts' },
      { from: 'src/b/y.ts', to: 'src/c/z.ts' },
      { from: 'src/c/z.ts', to: 'src/a/w.ts' },
      { from: 'src/c/z.ts', to: 'src/d/v.ts' },
    ]);
    expect(circles).to.deep.equal([['src/a', 'src/b', 'src/c']]);
  });
});
