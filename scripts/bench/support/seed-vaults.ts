import { randomBytes, randomUUID } from 'node:crypto';
import { generateVaultKey, sealValue } from '../../../src/client/crypto/index.js';
import type { Field } from '../../../src/domain/record.js';
import type { StoredSession } from '../../../src/client/token-store.js';
import { seededRandom } from '../../../src/lib/seeded-random.js';
import { createMutation } from '../../../src/wire/mutations.js';
import type { BenchContext } from '../types.js';
import { BENCH_PASSWORD, type BenchServer } from './server.js';

export const SEED_WORDS = ['mail', 'bank', 'visa', 'router', 'github', 'server', 'office', 'phone', 'alpha', 'delta', 'orbit', 'lantern', 'cobble', 'ferry', 'quartz', 'zebra'];

export interface SeedShape {
  users: number;
  records: number;
  fields: number;
  /** Of the fields, this many are sealed on the client (real AES-256-GCM values of real size). */
  sealedFields: number;
  /** Names logins `<prefix>-<n>-<random>`. */
  prefix: string;
  seed: number;
}

/** Users registered with BENCH_PASSWORD, each with records of word-made names and values pushed in one batch. */
export async function seedVaults(ctx: BenchContext, server: BenchServer, shape: SeedShape): Promise<Array<{ login: string; session: StoredSession }>> {
  const random = seededRandom(shape.seed);
  const word = () => SEED_WORDS[Math.floor(random() * SEED_WORDS.length)]!;
  ctx.progress(`registering ${shape.users} users and pushing ${shape.records} records each`);
  const seeded: Array<{ login: string; session: StoredSession }> = [];
  const pending: Array<Promise<void>> = [];
  for (let u = 0; u < shape.users; u++) {
    const work = (async () => {
      const { client: user } = await server.client();
      const login = `${shape.prefix}-${u}-${randomBytes(3).toString('hex')}`;
      const session = await user.register(login, BENCH_PASSWORD);
      const key = generateVaultKey();
      const mutations = Array.from({ length: shape.records }, (_, r) => {
        const recordId = randomUUID();
        const fields: Field[] = Array.from({ length: shape.fields }, (_, f) => {
          const value = `${word()}-${word()}-${Math.floor(random() * 1e6)}`;
          const sealed = f >= shape.fields - shape.sealedFields;
          return { name: `field-${f}`, value: sealed ? sealValue(key, value, { recordId, field: `field-${f}` }) : value, sensitive: sealed };
        });
        return createMutation({ recordId, kind: 'login', name: `${word()} ${word()} ${r}`, fields });
      });
      await user.push({ expectedVersion: 0, clientId: 'bench-setup', mutations });
      seeded.push({ login, session: (await user.currentSession()) ?? session });
      user.close();
    })();
    pending.push(work);
    if (pending.length >= 8) await Promise.all(pending.splice(0));
    if ((u + 1) % 100 === 0) ctx.progress(`  ${u + 1} users`);
  }
  await Promise.all(pending);
  ctx.progress('waiting for the read model to catch up');
  await server.app.projector?.idle();
  return seeded;
}
