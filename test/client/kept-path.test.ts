import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { canonicalServer, keptPath } from '../../src/client/kept-path.js';
import { FileTokenStore } from '../../src/client/token-store.js';

describe('the files a client keeps per server', function () {
  it('names one server the same however it was written: replicas in any order, host names in any case', () => {
    expect(canonicalServer('b.example:7070,A.example:7070')).to.equal('a.example:7070,b.example:7070');
    expect(canonicalServer('a.example:7070,b.example:7070')).to.equal('a.example:7070,b.example:7070');
    expect(canonicalServer('Keeper:7070')).to.equal('keeper:7070');
    expect(canonicalServer('dns:///Keeper:7070')).to.equal('dns:///keeper:7070');
  });

  it('finds the session kept with the replicas in another order', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keeper-kept-'));
    const session = { userId: 'u1', login: 'ada', accessToken: 'a', refreshToken: 'r', accessExpiresAt: 1, refreshExpiresAt: 2 };
    await new FileTokenStore(home, 'b:7070,a:7070').save(session);
    expect(await new FileTokenStore(home, 'a:7070,b:7070').load()).to.deep.equal(session);
  });

  it('moves a file kept under the name earlier versions gave to the one it has now, contents intact', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keeper-kept-'));
    await mkdir(join(home, 'cache'));
    const earlier = join(home, 'cache', 'b_7070_A_7070-u1.json');
    await writeFile(earlier, 'pending edits');
    const path = keptPath(home, 'cache', 'b:7070,A:7070', '-u1.json');
    expect(path).to.equal(join(home, 'cache', 'a_7070_b_7070-u1.json'));
    expect(await readFile(path, 'utf8')).to.equal('pending edits');
    // The same file whichever way the setting is written next.
    expect(keptPath(home, 'cache', 'a:7070,b:7070', '-u1.json')).to.equal(path);
  });
});
