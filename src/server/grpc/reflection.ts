import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** The repository's proto/ directory: the same files the generated code comes from. */
const PROTO_ROOT = resolve(import.meta.dirname, '..', '..', '..', 'proto');

/**
 * Server reflection (`grpc.reflection.v1` and `v1alpha`), so grpcurl, Postman and the like can
 * list the services and call them without the .proto files. It describes Keeper's services and
 * the health service, from the proto files the generated code is made from.
 */
export function addReflection(server: Pick<Server, 'addService'>): void {
  const keeperFiles = readdirSync(join(PROTO_ROOT, 'keeper', 'v1'))
    .filter((name) => name.endsWith('.proto'))
    .map((name) => `keeper/v1/${name}`);
  const healthRoot = resolve(dirname(healthProtoPath), '..', '..');
  const definition = loadSync([...keeperFiles, 'health/v1/health.proto'], { includeDirs: [PROTO_ROOT, healthRoot] });
  new ReflectionService(definition).addToServer(server);
}
