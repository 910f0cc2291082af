import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('generated gRPC code', function () {
  this.timeout(120_000);

  it('is what `npm run proto` makes from proto/ (run it and commit src/gen if this fails)', () => {
    const out = mkdtempSync(join(tmpdir(), 'keeper-gen-'));
    try {
      execFileSync(process.execPath, [join(root, 'scripts/proto.mjs'), '--out', out], { cwd: root, stdio: 'pipe' });
      const committed = join(root, 'src/gen');
      const fresh = files(out).map((p) => relative(out, p)).sort();
      expect(files(committed).map((p) => relative(committed, p)).sort()).to.deep.equal(fresh);
      for (const file of fresh) {
        expect(readFileSync(join(committed, file), 'utf8'), `src/gen/${file} is stale`).to.equal(readFileSync(join(out, file), 'utf8'));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('passes buf lint', () => {
    execFileSync(join(root, 'node_modules/.bin/buf'), ['lint'], { cwd: root, stdio: 'pipe' });
  });
});
