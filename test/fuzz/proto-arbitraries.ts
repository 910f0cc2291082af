import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { loadSync, type MessageTypeDefinition, type PackageDefinition } from '@grpc/proto-loader';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { MethodKind } from '../support/raw-grpc.js';

/**
 * Random protobuf requests for every method of every service the server offers, built from the
 * .proto files themselves (so a method added later is fuzzed without touching this file), encoded
 * by hand so that they can hold what no well-behaved encoder writes: invalid UTF-8, numbers past
 * 2^53, truncated or flipped bytes.
 */

export interface FuzzMethod {
  path: string;
  kind: MethodKind;
  /** Full name of the request message. */
  requestType: string;
}

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

const require = createRequire(import.meta.url);
const PROTO_ROOT = resolve(import.meta.dirname, '..', '..', 'proto');
const HEALTH_ROOT = resolve(dirname(healthProtoPath), '..', '..');
const REFLECTION_ROOT = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto');

export function loadServices(): { methods: FuzzMethod[]; definition: PackageDefinition } {
  const keeperFiles = readdirSync(join(PROTO_ROOT, 'keeper', 'v1'))
    .filter((name) => name.endsWith('.proto'))
    .map((name) => `keeper/v1/${name}`);
  const definition = loadSync([...keeperFiles, 'health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'], {
    includeDirs: [PROTO_ROOT, HEALTH_ROOT, REFLECTION_ROOT],
  });
  const methods: FuzzMethod[] = [];
  for (const [serviceName, entry] of Object.entries(definition)) {
    if ('format' in entry) continue;
    const pkg = serviceName.slice(0, serviceName.lastIndexOf('.'));
    for (const method of Object.values(entry)) {
      const kind: MethodKind = method.requestStream ? (method.responseStream ? 'bidi' : 'clientStream') : method.responseStream ? 'serverStream' : 'unary';
      const typeName = (method.requestType.type as { name: string }).name;
      methods.push({ path: method.path, kind, requestType: `${pkg}.${typeName}` });
    }
  }
  return { methods, definition };
}

export interface ValuePools {
  /** Plausible strings (ids of other users' records, kinds, logins): the interesting collisions. */
  strings: string[];
  /** Each distinctive value the generator sends is added here, so the log can be searched for it. */
  sent: Set<string>;
}

const tag = (fieldNo: number, wireType: number) => (fieldNo << 3) | wireType;
const utf8 = new TextEncoder();

const CONTROL_TEXT = fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)), maxLength: 12 });

/** A canary: a value distinctive enough to grep for, inside whatever text surrounds it. */
function canary(pools: ValuePools): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom('', 'pw ', 'tok.', '\u0000', '\t', 'é'), fc.bigInt({ min: 1n << 40n, max: (1n << 48n) - 1n }), fc.constantFrom('', '\n', ' ☕', '\u0007')).map(([before, id, after]) => {
    const value = `fz${id.toString(36)}`;
    pools.sent.add(value);
    return `${before}${value}${after}`;
  });
}

function stringBytes(pools: ValuePools): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...pools.strings).map((text) => utf8.encode(text)) },
    { weight: 4, arbitrary: canary(pools).map((text) => utf8.encode(text)) },
    { weight: 2, arbitrary: CONTROL_TEXT.map((text) => utf8.encode(text)) },
    { weight: 1, arbitrary: fc.constant(new Uint8Array()) },
    // Invalid UTF-8: lone continuation bytes, overlong forms, surrogates, truncated sequences.
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
    { weight: 1, arbitrary: canary(pools).map((text) => utf8.encode(text.padEnd(70_000, 'x'))) },
  );
}

function varint64(signed: boolean): fc.Arbitrary<bigint> {
  const edges = [0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, ...(signed ? [-1n, -(2n ** 53n), -(2n ** 63n)] : [2n ** 64n - 1n])];
  return fc.oneof(fc.constantFrom(...edges), signed ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) : fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 100n }));
}

/** The bytes of one field occurrence (tag and value) of `field`. */
function fieldArb(field: FieldDescriptor, scope: string, depth: number, make: (typeName: string, scope: string, depth: number) => fc.Arbitrary<Uint8Array>, pools: ValuePools): fc.Arbitrary<Uint8Array> {
  const n = field.number;
  const write = (fn: (writer: BinaryWriter) => void) => {
    const writer = new BinaryWriter();
    fn(writer);
    return writer.finish();
  };
  switch (field.type) {
    case 'TYPE_STRING':
      return stringBytes(pools).map((bytes) => write((w) => w.uint32(tag(n, 2)).bytes(bytes)));
    case 'TYPE_BYTES':
      return fc.uint8Array({ maxLength: 256 }).map((bytes) => write((w) => w.uint32(tag(n, 2)).bytes(bytes)));
    case 'TYPE_BOOL':
      return fc.integer({ min: 0, max: 3 }).map((value) => write((w) => w.uint32(tag(n, 0)).uint32(value)));
    case 'TYPE_UINT64':
    case 'TYPE_FIXED64':
      return varint64(false).map((value) => write((w) => (field.type === 'TYPE_UINT64' ? w.uint32(tag(n, 0)).uint64(value) : w.uint32(tag(n, 1)).fixed64(value))));
    case 'TYPE_INT64':
    case 'TYPE_SINT64':
    case 'TYPE_SFIXED64':
      return varint64(true).map((value) =>
        write((w) => (field.type === 'TYPE_INT64' ? w.uint32(tag(n, 0)).int64(value) : field.type === 'TYPE_SINT64' ? w.uint32(tag(n, 0)).sint64(value) : w.uint32(tag(n, 1)).sfixed64(value))),
      );
    case 'TYPE_DOUBLE':
      return fc.double().map((value) => write((w) => w.uint32(tag(n, 1)).double(value)));
    case 'TYPE_FLOAT':
      return fc.float().map((value) => write((w) => w.uint32(tag(n, 5)).float(value)));
    case 'TYPE_FIXED32':
    case 'TYPE_SFIXED32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => write((w) => w.uint32(tag(n, 5)).sfixed32(value)));
    case 'TYPE_MESSAGE':
      return make(field.typeName, scope, depth + 1).map((bytes) => write((w) => w.uint32(tag(n, 2)).bytes(bytes)));
    default:
      // int32, uint32, sint32, enum: any varint, in range or not.
      return fc.oneof(fc.integer({ min: -1, max: 5 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map((value) => write((w) => w.uint32(tag(n, 0)).int32(value)));
  }
}

/** Random well-framed messages of any request type in `definition`. */
export function messageArbitraries(definition: PackageDefinition, pools: ValuePools): (typeName: string) => fc.Arbitrary<Uint8Array> {
  const cache = new Map<string, fc.Arbitrary<Uint8Array>>();
  const lookup = (typeName: string, scope: string): { name: string; fields: FieldDescriptor[] } => {
    const name = typeName.replace(/^\./, '');
    const parts = scope.split('.');
    for (let i = parts.length; i >= 0; i -= 1) {
      const candidate = [...parts.slice(0, i), name].join('.');
      const entry = definition[candidate] as MessageTypeDefinition<unknown, unknown> | undefined;
      if (entry && 'format' in entry) return { name: candidate, fields: (entry.type as { field: FieldDescriptor[] }).field };
    }
    throw new Error(`no message type ${typeName} in ${scope}`);
  };
  const make = (typeName: string, scope: string, depth: number): fc.Arbitrary<Uint8Array> => {
    if (depth > 3) return fc.constant(new Uint8Array());
    const { name, fields } = lookup(typeName, scope);
    const key = `${name}@${depth}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const pkg = name.slice(0, name.lastIndexOf('.'));
    const perField = fields.map((field) => {
      const one = fieldArb(field, pkg, depth, make, pools);
      return field.label === 'LABEL_REPEATED' ? fc.array(one, { maxLength: 3 }) : fc.option(one, { nil: undefined, freq: 3 }).map((value) => (value ? [value] : []));
    });
    const arbitrary = fc.tuple(...perField).map((parts) => concat(parts.flat()));
    cache.set(key, arbitrary);
    return arbitrary;
  };
  return (typeName) => make(typeName, '', 0);
}

/** Byte-level damage: flips, cuts, insertions, as a buggy client or a bad link would do. */
export function mutated(message: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(message, fc.array(fc.tuple(fc.constantFrom('flip', 'cut', 'insert', 'drop'), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([bytes, edits]) => {
      let out: Uint8Array = Uint8Array.from(bytes);
      for (const [edit, at, value] of edits) {
        const i = out.length ? at % out.length : 0;
        if (edit === 'flip' && out.length) out[i] = out[i]! ^ (value || 1);
        else if (edit === 'cut') out = out.slice(0, i);
        else if (edit === 'insert') out = concat([out.slice(0, i), Uint8Array.of(value), out.slice(i)]);
        else if (edit === 'drop' && out.length) out = concat([out.slice(0, i), out.slice(i + 1)]);
      }
      return out;
    });
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength)));
}
