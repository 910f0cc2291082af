import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A throwaway CA and a server certificate it signed, for 127.0.0.1 and localhost (openssl). */
export async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string; strangerCa: string }> {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newCa = (name: string) =>
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  newCa('keeper-test-ca');
  newCa('stranger-ca');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'keeper-test-ca.crt', '-CAkey', 'keeper-test-ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.crt');
  return { ca: join(dir, 'keeper-test-ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), strangerCa: join(dir, 'stranger-ca.crt') };
}
