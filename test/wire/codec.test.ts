import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { commandSchema, type VaultCommand } from '../../src/domain/commands.js';
import { VAULT_EVENT_TYPES, type VaultEvent, type VaultEventType } from '../../src/domain/events.js';
import { IMAGE_RENDITIONS, type ImageState, type RenditionInfo } from '../../src/domain/images.js';
import { RECORD_KINDS } from '../../src/domain/limits.js';
import type { RecordState } from '../../src/domain/decider.js';
import type { Field } from '../../src/domain/record.js';
import { createVaultKey, generateVaultKey, isSealed, sealValue } from '../../src/client/crypto/index.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { Event as EventMessage, Mutation as MutationMessage, Record as RecordMessage } from '../../src/gen/keeper/v1/vault.js';
import { Image as ImageMessage } from '../../src/gen/keeper/v1/images.js';
import { eventFromWire, eventToWire } from '../../src/wire/events.js';
import { downloadHeaderToWire, imageFromWire, imageToWire, renditionFromWire, renditionToWire } from '../../src/wire/images.js';
import { commandToMutation, mutationFromWire } from '../../src/wire/mutations.js';
import { recordFromWire, recordToWire } from '../../src/wire/records.js';

/** Through the codec and through protobuf bytes, as a message really travels. */
const viaBytes = {
  event: (event: VaultEvent) => eventFromWire(EventMessage.decode(EventMessage.encode(eventToWire(event)).finish())),
  record: (record: RecordState) => recordFromWire(RecordMessage.decode(RecordMessage.encode(recordToWire(record)).finish())),
  image: (image: ImageState) => imageFromWire(ImageMessage.decode(ImageMessage.encode(imageToWire(image)).finish())),
  command: (command: VaultCommand) => commandSchema.parse(mutationFromWire(MutationMessage.decode(MutationMessage.encode(commandToMutation(command)).finish()))),
};

const withoutUndefined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, each]) => each !== undefined)) as T;

const key = generateVaultKey();
const recordId = randomUUID();
const sealed = sealValue(key, 'correct horse battery staple', { recordId, field: 'password' });
const fields: Field[] = [
  { name: 'user', value: 'alice@example.com', sensitive: false },
  { name: 'password', value: sealed, sensitive: true },
  { name: 'notes', value: 'line one\nline two, ünïcödé and 🗝️', sensitive: false },
];
const rendition = (seed: string, type = 'image/jpeg'): RenditionInfo => ({ address: seed.repeat(64).slice(0, 64), type, width: 640, height: 480, size: 12_345 });

describe('wire codec', () => {
  let envelope: string;
  before(async () => {
    envelope = JSON.stringify((await createVaultKey('a secret word', randomUUID())).envelope);
  });

  it('a sealed value is carried unchanged (the fixtures really hold one)', () => {
    expect(isSealed(sealed)).to.equal(true);
  });

  describe('events', () => {
    const metadata = (id: string, forRecord: string) => ({ mutationId: id, recordId: forRecord, clientId: 'laptop', at: 1_700_000_000_123 });
    const imageId = randomUUID();
    const samples = (): Record<VaultEventType, VaultEvent['type'] extends never ? never : Omit<VaultEvent, 'id' | 'version' | 'metadata'>> => ({
      RecordCreated: { type: 'RecordCreated', data: { recordId, kind: 'login', name: 'Mail', fields } },
      RecordUpdated: { type: 'RecordUpdated', data: { recordId, name: 'Mail (work)', kind: 'card', setFields: fields.slice(1), removeFields: ['user'] } },
      RecordDeleted: { type: 'RecordDeleted', data: { recordId } },
      RecordRestored: { type: 'RecordRestored', data: { recordId, kind: 'note', name: 'Mail', fields, fromVersion: 3 } },
      VaultKeySet: { type: 'VaultKeySet', data: { keyId: randomUUID(), envelope } },
      ImageAttached: { type: 'ImageAttached', data: { imageId, recordId, fileName: 'photo.jpg', original: rendition('a'), encrypted: false } },
      ImageRenditionsReady: { type: 'ImageRenditionsReady', data: { imageId, recordId, cover: rendition('b'), compact: rendition('c', 'image/webp') } },
      ImageRenditionsFailed: { type: 'ImageRenditionsFailed', data: { imageId, recordId, reason: 'not an image Keeper can read' } },
      ImageDetached: { type: 'ImageDetached', data: { imageId, recordId } },
    }) as never;

    it('every event type comes back as it went', () => {
      const all = samples();
      expect(Object.keys(all)).to.have.members(VAULT_EVENT_TYPES);
      VAULT_EVENT_TYPES.forEach((type, index) => {
        const id = randomUUID();
        const forRecord = type === 'VaultKeySet' ? '' : recordId;
        const event = { ...all[type], id, version: index + 1, metadata: metadata(id, forRecord) } as VaultEvent;
        expect(viaBytes.event(event), type).to.deep.equal(event);
      });
    });

    it('a conflict copy and a sealed image keep what makes them so', () => {
      const copy = { type: 'RecordCreated', data: { recordId: randomUUID(), kind: 'custom', name: 'Mail (conflict)', fields, conflictOf: recordId } } as const;
      const sealedImage = {
        type: 'ImageAttached',
        data: { imageId, recordId, fileName: sealValue(key, 'photo.jpg', { recordId, field: imageId, purpose: 'name' }), original: rendition('d', 'application/octet-stream'), encrypted: true },
      } as const;
      const sealedCover = { type: 'ImageRenditionsReady', data: { imageId, recordId, cover: rendition('e', 'application/octet-stream') } } as const;
      for (const [index, sample] of [copy, sealedImage, sealedCover].entries()) {
        const id = randomUUID();
        const event = { ...sample, id, version: 10 + index, metadata: metadata(id, sample.data.recordId) } as VaultEvent;
        expect(viaBytes.event(event)).to.deep.equal(event);
      }
    });

    it('an event the domain would refuse is refused on the way in, not carried', () => {
      const id = randomUUID();
      const wire = eventToWire({ id, type: 'RecordCreated', version: 1, data: { recordId, kind: 'password', name: 'x', fields: [] }, metadata: metadata(id, recordId) });
      expect(() => eventFromWire(wire)).to.throw(/kind/);
      expect(() => eventFromWire({ ...wire, type: 'RecordRenamed' })).to.throw(/unknown event type/);
    });
  });

  describe('records', () => {
    const record = (overrides: Partial<RecordState> = {}): RecordState => ({
      id: randomUUID(),
      kind: 'login',
      name: 'Bank',
      fields,
      tags: [],
      favourite: false,
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_100_000,
      version: 7,
      deletedAt: null,
      ...overrides,
    });

    it('every record kind comes back as it went, sealed values and all', () => {
      for (const kind of RECORD_KINDS) {
        const live = record({ kind });
        expect(viaBytes.record(live), kind).to.deep.equal(live);
      }
    });

    it('a conflict copy keeps its original; a record that is not one gets no conflictOf', () => {
      const copy = record({ conflictOf: randomUUID() });
      expect(viaBytes.record(copy)).to.deep.equal(copy);
      expect(viaBytes.record(record())).not.to.have.property('conflictOf');
    });

    it('a record with no fields comes back with none', () => {
      const empty = record({ kind: 'note', fields: [] });
      expect(viaBytes.record(empty)).to.deep.equal(empty);
    });
  });

  describe('images and renditions', () => {
    const image = (overrides: Partial<ImageState> = {}): ImageState => ({
      id: randomUUID(),
      recordId,
      fileName: 'holiday.png',
      original: rendition('1', 'image/png'),
      encrypted: false,
      status: 'processing',
      createdAt: 1_700_000_000_000,
      version: 4,
      detachedAt: null,
      ...overrides,
    });

    it('an image in each state comes back as it went, with every rendition', () => {
      const processing = image();
      const ready = image({ status: 'ready', cover: rendition('2'), compact: rendition('3', 'image/webp') });
      const failed = image({ status: 'failed', failure: 'the picture is damaged' });
      const sealedImage = image({ encrypted: true, fileName: sealValue(key, 'x.png', { recordId, field: 'img', purpose: 'name' }), status: 'ready', cover: rendition('4', 'application/octet-stream') });
      for (const each of [processing, ready, failed, sealedImage]) expect(viaBytes.image(each)).to.deep.equal(each);
    });

    it('every rendition name has its own wire value and comes back from it', () => {
      const values = IMAGE_RENDITIONS.map(renditionToWire);
      expect(new Set(values).size).to.equal(IMAGE_RENDITIONS.length);
      for (const name of IMAGE_RENDITIONS) expect(renditionFromWire(renditionToWire(name))).to.equal(name);
    });

    it('an unspecified or unknown rendition has no name', () => {
      expect(renditionFromWire(Rendition.RENDITION_UNSPECIFIED)).to.equal(undefined);
      expect(renditionFromWire(99)).to.equal(undefined);
    });

    it('a download header names each rendition and carries its address as the sha256 the client checks', () => {
      const ready = image({ status: 'ready', cover: rendition('5'), compact: rendition('6', 'image/webp') });
      for (const name of IMAGE_RENDITIONS) {
        const info = ready[name]!;
        expect(downloadHeaderToWire({ image: ready, rendition: name, info }), name).to.deep.equal({
          imageId: ready.id,
          rendition: renditionToWire(name),
          fileName: ready.fileName,
          type: info.type,
          size: info.size,
          sha256: info.address,
          encrypted: false,
        });
      }
    });

    it('a listed image without its original is refused', () => {
      const wire = imageToWire(image());
      expect(() => imageFromWire({ ...wire, original: undefined })).to.throw(/without its original/);
    });
  });

  describe('mutations', () => {
    it('every command comes back as it went', () => {
      const commands: VaultCommand[] = [
        { type: 'CreateRecord', mutationId: randomUUID(), recordId, kind: 'login', name: 'Mail', fields },
        { type: 'CreateRecord', mutationId: randomUUID(), recordId: randomUUID(), kind: 'card', name: 'Mail (conflict)', fields, conflictOf: recordId },
        { type: 'UpdateRecord', mutationId: randomUUID(), recordId, name: 'Post', kind: 'note', setFields: fields.slice(1), removeFields: ['user'] },
        { type: 'UpdateRecord', mutationId: randomUUID(), recordId, setFields: [], removeFields: ['notes'] },
        { type: 'DeleteRecord', mutationId: randomUUID(), recordId },
        { type: 'RestoreRecord', mutationId: randomUUID(), recordId, kind: 'custom', name: 'Mail', fields, fromVersion: 2 },
        { type: 'SetVaultKey', mutationId: randomUUID(), keyId: randomUUID(), replacesKeyId: null, envelope },
        { type: 'SetVaultKey', mutationId: randomUUID(), keyId: randomUUID(), replacesKeyId: randomUUID(), envelope },
      ];
      // proto3 cannot tell an absent optional field from one left unset, and neither can the
      // domain (it tests for undefined), so keys holding undefined are not compared.
      for (const command of commands) expect(withoutUndefined(viaBytes.command(command)), command.type).to.deep.equal(command);
    });

    it('a mutation with no change maps to no command type, for the server to refuse', () => {
      expect(mutationFromWire({ mutationId: 'm1', change: undefined })).to.deep.equal({ type: undefined, mutationId: 'm1' });
    });
  });
});
