import { execFileSync } from 'node:child_process';

/**
 * docker-compose.yml with the event log in PostgreSQL instead of KurrentDB, for machines where
 * KurrentDB cannot run: the `kurrentdb` service and its volumes go, every service's dependency on
 * it goes, and KEEPER_EVENTSTORE_URL is emptied (Keeper then keeps the log in the database of
 * KEEPER_DATABASE_URL). Everything else is docker-compose.yml as Compose itself resolves it.
 *
 * Made from the file rather than kept as an override file: Compose v1 merges `depends_on` across
 * files and cannot drop an entry, and refuses to `extends` a service that has one.
 */
export function composeWithLogInPostgres(composeFile: string, composeArgs: string[], env: NodeJS.ProcessEnv): { config: Record<string, unknown>; changes: string[] } {
  const resolved = execFileSync('docker-compose', [...composeArgs, '-f', composeFile, 'config'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // Compose v1 prints YAML; its own YAML library (python3-yaml, which docker-compose needs) reads it.
  const json = execFileSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: resolved, encoding: 'utf8' });
  const config = JSON.parse(json) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const changes: string[] = [];
  const kurrent = config.services.kurrentdb;
  if (!kurrent) throw new Error(`${composeFile} has no kurrentdb service: nothing to take out`);
  delete config.services.kurrentdb;
  const kurrentVolumes = (kurrent.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume.split(':')[0] : volume.source)).filter((name): name is string => Boolean(name));
  for (const name of kurrentVolumes) delete config.volumes?.[name];
  changes.push(`service kurrentdb and its volumes (${kurrentVolumes.join(', ')}) taken out`);
  const dependents: string[] = [];
  const emptied: string[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    if (service.depends_on && 'kurrentdb' in service.depends_on) {
      delete service.depends_on.kurrentdb;
      dependents.push(name);
    }
    if (service.environment && 'KEEPER_EVENTSTORE_URL' in service.environment) {
      service.environment.KEEPER_EVENTSTORE_URL = '';
      emptied.push(name);
    }
  }
  changes.push(`depends_on kurrentdb dropped from ${dependents.join(', ')}`);
  changes.push(`KEEPER_EVENTSTORE_URL emptied (the log in PostgreSQL) for ${emptied.join(', ')}`);
  return { config, changes };
}

interface Service {
  depends_on?: Record<string, unknown>;
  environment?: Record<string, string>;
  volumes?: Array<string | { source?: string }>;
}
