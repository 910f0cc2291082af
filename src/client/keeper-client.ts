import { Metadata } from '@grpc/grpc-js';
import type { Session, SessionInfo } from '../gen/keeper/v1/auth.js';
import type { ListResponse, PullResponse, PushRequest, PushResponse, StatusResponse } from '../gen/keeper/v1/vault.js';
import type {
  DeleteImageResponse,
  DownloadHeader,
  DownloadImageRequest,
  Image,
  Rendition,
  UploadHeader,
  UploadImageRequest,
  UploadImageResponse,
} from '../gen/keeper/v1/images.js';
import { bearer, callUnary, isServiceError, openClients, status, type ChannelOptions, type GrpcClients } from './grpc-channel.js';
import type { StoredSession, TokenStore } from './token-store.js';
import { retryUnavailable } from './retry.js';
import { DownloadChanged, resumeDelayMs } from './download-resume.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { keepWatching, type VaultVersion, type VersionWatch, type WatchOptions } from './version-watch.js';

/**
 * There is no session, or it ended (`why`: logged out, revoked, expired, in the server's words).
 * Said in no face's words: each face tells its user how to log in.
 */
export class NotLoggedIn extends Error {
  constructor(readonly why?: string) {
    super(why === undefined ? 'not logged in' : `session ended (${why})`);
    this.name = 'NotLoggedIn';
  }
}

const REFRESH_MARGIN_MS = 30_000;
/** Listings started before one completes without the vault changing under it. */
const LIST_ATTEMPTS = 5;

/**
 * The server as the client sees it: auth calls that keep the session file current, and vault
 * calls that carry the access token and renew it with the refresh token when it runs out.
 */
export class KeeperClient {
  private readonly grpc: GrpcClients;
  private readonly channel: ChannelOptions;
  /** Image transfers' own connection, opened on the first transfer. */
  private bulkClients: GrpcClients | undefined;
  private session: StoredSession | undefined;
  private loaded = false;
  /** The refresh under way: parallel calls of this user wait for it instead of racing their own. */
  private refreshing: Promise<StoredSession> | undefined;

  /**
   * @param clientId names this installation in the server's session list (`keeper sessions`).
   */
  constructor(
    channel: ChannelOptions,
    private readonly sessions: TokenStore,
    private readonly timeoutMs = 15_000,
    private readonly clientId = '',
    /** The largest List and Pull message wanted, in bytes (0: the server's default, 1 MiB). */
    private readonly pageBytes = 0,
  ) {
    this.grpc = openClients(channel);
    this.channel = channel;
  }

  connect(): void {
    this.grpc.connect();
  }

  close(): void {
    this.grpc.close();
    this.bulkClients?.close();
  }

  private get bulk(): GrpcClients {
    this.bulkClients ??= openClients({ ...this.channel, purpose: 'bulk' });
    return this.bulkClients;
  }

  async currentSession(): Promise<StoredSession | undefined> {
    if (!this.loaded) {
      this.session = await this.sessions.load();
      this.loaded = true;
    }
    return this.session;
  }

  async register(login: string, password: string): Promise<StoredSession> {
    const response = await callUnary(this.grpc.auth.register.bind(this.grpc.auth), { login, password, clientId: this.clientId }, new Metadata(), this.timeoutMs);
    return this.keep(response.session);
  }

  async login(login: string, password: string): Promise<StoredSession> {
    const response = await callUnary(this.grpc.auth.login.bind(this.grpc.auth), { login, password, clientId: this.clientId }, new Metadata(), this.timeoutMs);
    return this.keep(response.session);
  }

  /** Revokes the refresh token family on the server (when reachable) and forgets the session. */
  async logout(): Promise<boolean> {
    const session = await this.currentSession();
    if (!session) return false;
    try {
      await callUnary(this.grpc.auth.logout.bind(this.grpc.auth), { refreshToken: session.refreshToken }, new Metadata(), this.timeoutMs);
    } finally {
      this.session = undefined;
      await this.sessions.clear();
    }
    return true;
  }

  /** This user's sessions that go on, most recently used first; `current` marks this one. */
  async listSessions(): Promise<SessionInfo[]> {
    const response = await this.withToken((metadata) => callUnary(this.grpc.auth.listSessions.bind(this.grpc.auth), {}, metadata, this.timeoutMs));
    return response.sessions;
  }

  /** Ends one of this user's sessions (by id), or all but this one; how many ended. */
  async revokeSessions(target: { sessionId: string } | { allOthers: true }): Promise<number> {
    const request = { target: 'sessionId' in target ? { $case: 'sessionId' as const, value: target.sessionId } : { $case: 'allOthers' as const, value: true } };
    const response = await this.withToken((metadata) => callUnary(this.grpc.auth.revokeSessions.bind(this.grpc.auth), request, metadata, this.timeoutMs));
    return response.revoked;
  }

  status(): Promise<StatusResponse> {
    return this.withToken((metadata) => callUnary(this.grpc.vault.status.bind(this.grpc.vault), {}, metadata, this.timeoutMs));
  }

  /**
   * The whole snapshot, its pages put together. When the vault changed while it was listed the
   * server ends the listing with ABORTED (its pages would not make one snapshot): it is listed again.
   */
  async list(): Promise<ListResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withToken((metadata) => this.listPages(metadata));
      } catch (error) {
        if (attempt < LIST_ATTEMPTS && isServiceError(error) && error.code === status.ABORTED) continue;
        throw error;
      }
    }
  }

  /**
   * One listing. A deadline for the whole stream would fail a large vault on a slow link, so the
   * timeout is for each page instead: the server must send the next one within it.
   */
  private listPages(metadata: Metadata): Promise<ListResponse> {
    return new Promise<ListResponse>((resolve, reject) => {
      const snapshot: ListResponse = { version: 0, lastModifiedAt: 0, records: [], images: [], vaultKey: undefined };
      const stream = this.grpc.vault.list({ pageBytes: this.pageBytes }, metadata);
      let timer: NodeJS.Timeout | undefined;
      const waitForPage = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          reject(Object.assign(new Error(`${status.DEADLINE_EXCEEDED} DEADLINE_EXCEEDED: no page of the listing within ${this.timeoutMs} ms`), {
            code: status.DEADLINE_EXCEEDED,
            details: `no page of the listing within ${this.timeoutMs} ms`,
            metadata: new Metadata(),
          }));
          stream.cancel();
        }, this.timeoutMs);
      };
      waitForPage();
      stream.on('data', (page: ListResponse) => {
        waitForPage();
        snapshot.version = page.version;
        snapshot.lastModifiedAt = page.lastModifiedAt;
        if (page.vaultKey) snapshot.vaultKey = page.vaultKey;
        for (const record of page.records) snapshot.records.push(record);
        for (const image of page.images) snapshot.images.push(image);
      });
      stream.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        resolve(snapshot);
      });
    });
  }

  /** Retried on UNAVAILABLE: the mutation ids make a repeated push land once. */
  push(request: PushRequest): Promise<PushResponse> {
    return retryUnavailable(() => this.withToken((metadata) => callUnary(this.grpc.vault.push.bind(this.grpc.vault), request, metadata, this.timeoutMs)));
  }

  /**
   * Tells `onVersion` the vault's version now, then each time it moves, until closed: a poke to
   * pull, carrying no changes. Rides the shared channel; survives server restarts and an access
   * token running out (see keepWatching), and gives up only through `options.onError`.
   */
  watch(onVersion: (version: VaultVersion) => void, options: WatchOptions = {}): VersionWatch {
    let session: StoredSession | undefined;
    return keepWatching(
      async (sinceVersion, renewed) => {
        session = renewed && session ? await this.renew(session) : await this.usableSession();
        return this.grpc.vault.watch({ sinceVersion }, bearer(session.accessToken));
      },
      onVersion,
      options,
    );
  }

  /** Every batch of events after `sinceVersion`, handed to `onBatch` as it arrives. */
  pull(sinceVersion: number, onBatch: (batch: PullResponse) => void): Promise<void> {
    return this.withToken(
      (metadata) =>
        new Promise<void>((resolve, reject) => {
          const stream = this.grpc.vault.pull({ sinceVersion, pageBytes: this.pageBytes }, metadata);
          stream.on('data', (batch: PullResponse) => onBatch(batch));
          stream.on('error', reject);
          stream.on('end', () => resolve());
        }),
    );
  }

  /**
   * Sends an image: the header, then each chunk as the source yields it, waiting whenever HTTP/2
   * flow control says the server has enough (a large file is never read ahead into memory).
   * `chunks` is called per attempt: a call retried after a token refresh reads the file again.
   */
  uploadImage(header: UploadHeader, chunks: () => AsyncIterable<Uint8Array>): Promise<UploadImageResponse> {
    return this.withToken(
      (metadata) =>
        new Promise<UploadImageResponse>((resolve, reject) => {
          let settled = false;
          const call = this.bulk.images.uploadImage(metadata, (error, response) => {
            settled = true;
            if (error) reject(error);
            else resolve(response);
          });
          const send = async () => {
            const write = (message: UploadImageRequest) =>
              call.write(message) ? Promise.resolve() : new Promise<void>((resume) => call.once('drain', () => resume()));
            await write({ part: { $case: 'header', value: header } });
            for await (const chunk of chunks()) {
              // The server answered early (it refused the upload): stop reading the file.
              if (settled) return;
              await write({ part: { $case: 'chunk', value: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) } });
            }
            call.end();
          };
          send().catch((error: unknown) => {
            call.cancel();
            if (!settled) reject(error);
          });
        }),
    );
  }

  /**
   * Receives one rendition of an image: its header first, then its chunks in order. A transfer
   * cut on the way (a replica stopping or gone, a server too busy for now) continues from the
   * bytes that arrived, on whichever replica answers, instead of starting over.
   */
  async downloadImage(imageId: string, rendition: Rendition, onHeader: (header: DownloadHeader) => void, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
    let header: DownloadHeader | undefined;
    let received = 0;
    for (let resumed = 0; ; resumed++) {
      try {
        await this.downloadFrom(
          { imageId, rendition, offset: received },
          (next) => {
            if (!header) {
              header = next;
              onHeader(next);
            } else if (next.sha256 !== header.sha256 || next.size !== header.size) {
              throw new DownloadChanged();
            }
          },
          async (chunk) => {
            received += chunk.length;
            await onChunk(chunk);
          },
        );
        return;
      } catch (error) {
        const wait = resumeDelayMs(error, resumed);
        if (wait === undefined) throw error;
        await sleep(wait);
      }
    }
  }

  private downloadFrom(request: DownloadImageRequest, onHeader: (header: DownloadHeader) => void, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
    return this.withToken(
      (metadata) =>
        new Promise<void>((resolve, reject) => {
          const stream = this.bulk.images.downloadImage(request, metadata);
          let writing = Promise.resolve();
          let failed = false;
          const fail = (error: unknown) => {
            failed = true;
            stream.cancel();
            reject(error);
          };
          let cut = false;
          stream.on('data', (message: { part?: { $case: 'header'; value: DownloadHeader } | { $case: 'chunk'; value: Buffer } }) => {
            // Messages still buffered when the call failed are dropped: the resumed request asks
            // for everything after the last chunk handed on, and must be the only one handing on.
            if (cut || failed) return;
            const part = message.part;
            if (part?.$case === 'header') {
              try {
                onHeader(part.value);
              } catch (error) {
                fail(error);
              }
            } else if (part?.$case === 'chunk') {
              // Writing to disk may lag the network: pause the stream until the chunk is written.
              stream.pause();
              writing = writing
                .then(() => onChunk(part.value))
                .then(
                  () => {
                    stream.resume();
                  },
                  fail,
                );
            }
          });
          stream.on('error', (error) => {
            cut = true;
            // What arrived before the cut is written before the caller resumes after it.
            if (!failed) writing.then(() => reject(error), reject);
          });
          stream.on('end', () => {
            writing.then(() => resolve(), reject);
          });
        }),
    );
  }

  listImages(recordId: string): Promise<Image[]> {
    return this.withToken(async (metadata) => {
      const response = await callUnary(this.grpc.images.listImages.bind(this.grpc.images), { recordId }, metadata, this.timeoutMs);
      return response.images;
    });
  }

  deleteImage(imageId: string): Promise<DeleteImageResponse> {
    return this.withToken((metadata) => callUnary(this.grpc.images.deleteImage.bind(this.grpc.images), { imageId }, metadata, this.timeoutMs));
  }

  private async keep(session: Session | undefined): Promise<StoredSession> {
    if (!session) throw new Error('the server answered without a session');
    this.session = { ...session };
    this.loaded = true;
    await this.sessions.save(this.session);
    return this.session;
  }

  private async refresh(session: StoredSession): Promise<StoredSession> {
    try {
      const response = await callUnary(
        this.grpc.auth.refresh.bind(this.grpc.auth),
        { refreshToken: session.refreshToken },
        new Metadata(),
        this.timeoutMs,
      );
      return await this.keep(response.session);
    } catch (error) {
      if (isServiceError(error) && error.code === status.UNAUTHENTICATED) {
        await this.sessions.clear();
        this.session = undefined;
        // The server's "session ended: <why>" (logged out, revoked...) is said once, as the why.
        const why = error.details.replace(/^session ended: /, '');
        throw new NotLoggedIn(why);
      }
      throw error;
    }
  }

  /**
   * A fresh session in place of `stale`: the one another call already renewed, the refresh under
   * way, or a new refresh. One refresh at a time per user, so parallel calls never race one.
   */
  private async renew(stale: StoredSession): Promise<StoredSession> {
    const current = await this.currentSession();
    if (current && current.accessToken !== stale.accessToken && current.accessExpiresAt - REFRESH_MARGIN_MS >= Date.now()) return current;
    this.refreshing ??= this.refresh(current ?? stale).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The session, renewed first when its access token is about to run out. */
  private async usableSession(): Promise<StoredSession> {
    const session = await this.currentSession();
    if (!session) throw new NotLoggedIn();
    return session.accessExpiresAt - REFRESH_MARGIN_MS < Date.now() ? this.renew(session) : session;
  }

  private async withToken<T>(call: (metadata: Metadata) => Promise<T>): Promise<T> {
    let session = await this.usableSession();
    try {
      return await call(bearer(session.accessToken));
    } catch (error) {
      // The token may have expired in flight or the server's clock runs ahead: renew once.
      if (isServiceError(error) && error.code === status.UNAUTHENTICATED) {
        session = await this.renew(session);
        return call(bearer(session.accessToken));
      }
      throw error;
    }
  }
}
