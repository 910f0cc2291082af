import { readdirSync, readFileSync } from 'node:fs';
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
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import (static, re-export or dynamic) of every file, as file -> file. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  const pattern = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const file of sourceFiles('src')) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(pattern)) {
      edges.push({ from: file, to: normalize(join(dirname(file), match[1]!.replace(/\.js$/, '.ts'))) });
    }
  }
  return edges;
}

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
