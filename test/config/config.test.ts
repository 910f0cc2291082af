import { expect } from 'chai';
import { loadServerConfig } from '../../src/config/server-config.js';
import { loadClientConfig } from '../../src/config/client-config.js';
import { refusal as configError } from '../support/config-refusal.js';

describe('server config', () => {
  it('has embedded defaults', () => {
    const config = loadServerConfig({}, {});
    expect(config).to.include({ dataDir: '.keeper', listen: '127.0.0.1:7070', host: '127.0.0.1', port: 7070, accessTtl: 900, bcryptCost: 12, projector: 'inline', logLevel: 'warn' });
    expect(config.databaseUrl).to.equal(undefined);
  });

  it('takes flags over environment variables', () => {
    const config = loadServerConfig({ listen: '0.0.0.0:9000' }, { KEEPER_LISTEN: '127.0.0.1:1', KEEPER_ACCESS_TTL: '60', KEEPER_DATABASE_URL: 'postgres://x@y/z' });
    expect(config).to.include({ host: '0.0.0.0', port: 9000, accessTtl: 60, databaseUrl: 'postgres://x@y/z' });
    expect(loadServerConfig({}, { KEEPER_LISTEN: '[::1]:7070' })).to.include({ host: '::1', port: 7070 });
  });

  it('names each bad value, what was given and what is expected', () => {
    expect(configError(() => loadServerConfig({}, { KEEPER_ACCESS_TTL: 'soon' }))).to.equal(
      'invalid configuration: --access-ttl / KEEPER_ACCESS_TTL (got "soon"): must be a number of seconds',
    );
    expect(configError(() => loadServerConfig({}, { KEEPER_ACCESS_TTL: '-5' }))).to.contain('must be above zero');
    expect(configError(() => loadServerConfig({}, { KEEPER_LISTEN: 'localhost' }))).to.contain('--listen / KEEPER_LISTEN (got "localhost"): must be host:port');
    expect(configError(() => loadServerConfig({}, { KEEPER_LISTEN: '127.0.0.1:99999' }))).to.contain('between 0 and 65535');
    expect(configError(() => loadServerConfig({}, { KEEPER_DATABASE_URL: 'mysql://x' }))).to.contain('must be a postgres:// URL');
    expect(configError(() => loadServerConfig({}, { KEEPER_BCRYPT_COST: '4' }))).to.contain('KEEPER_BCRYPT_COST (got "4"): must be at least 10');
    expect(configError(() => loadServerConfig({}, { KEEPER_TOKEN_KEY: 'secret' }))).to.contain('must be a PASERK k4.secret key');
    expect(configError(() => loadServerConfig({}, { KEEPER_LOG_LEVEL: 'loud' }))).to.contain('--log-level / KEEPER_LOG_LEVEL (got "loud")');
    expect(configError(() => loadServerConfig({}, { KEEPER_PROJECTOR: 'sometimes' }))).to.contain('must be inline or external');
    expect(configError(() => loadServerConfig({}, { KEEPER_TLS_CERT: 'cert.pem' }))).to.contain('TLS needs both');
    expect(configError(() => loadServerConfig({}, { KEEPER_PROJECTOR: 'external' }))).to.contain('can only run the projector inline');
    expect(configError(() => loadServerConfig({}, { KEEPER_MAX_MESSAGE_BYTES: '1048576' }))).to.contain('KEEPER_MAX_MESSAGE_BYTES (got "1048576"): must be at least 4194304');
    expect(loadServerConfig({}, { KEEPER_MAX_MESSAGE_BYTES: '16777216' }).maxMessageBytes).to.equal(16 * 1024 * 1024);
  });

  it('has no health endpoint unless one is asked for, and names a bad address', () => {
    expect(loadServerConfig({}, {}).healthListen).to.equal(undefined);
    expect(loadServerConfig({}, { KEEPER_HEALTH_LISTEN: '127.0.0.1:8080' }).healthListen).to.equal('127.0.0.1:8080');
    expect(configError(() => loadServerConfig({}, { KEEPER_HEALTH_LISTEN: '8080' }))).to.equal(
      'invalid configuration: --health-listen / KEEPER_HEALTH_LISTEN (got "8080"): must be host:port, e.g. 127.0.0.1:7070',
    );
  });

  it('has session defaults and validates the refresh reuse window and the session check interval', () => {
    expect(loadServerConfig({}, {})).to.include({ refreshReuseWindow: 10, sessionCheckMs: 1000 });
    expect(loadServerConfig({}, { KEEPER_REFRESH_REUSE_WINDOW: '0', KEEPER_SESSION_CHECK_MS: '250' })).to.include({ refreshReuseWindow: 0, sessionCheckMs: 250 });
    expect(configError(() => loadServerConfig({}, { KEEPER_REFRESH_REUSE_WINDOW: '-1' }))).to.contain('KEEPER_REFRESH_REUSE_WINDOW (got "-1"): must not be negative');
    expect(configError(() => loadServerConfig({}, { KEEPER_REFRESH_REUSE_WINDOW: '3600' }))).to.contain('must be at most 300');
    expect(configError(() => loadServerConfig({}, { KEEPER_SESSION_CHECK_MS: 'often' }))).to.contain('KEEPER_SESSION_CHECK_MS (got "often"): must be a number of milliseconds');
  });

  it('has drain, scheduling bounds and metrics settings, each refused with its name when bad', () => {
    expect(loadServerConfig({}, {})).to.include({ drainSeconds: 20, maxDownloads: 64, maxDownloadsPerUser: 8, maxDataRequests: 1024, metricsListen: undefined });
    expect(loadServerConfig({}, { KEEPER_DRAIN_SECONDS: '5', KEEPER_MAX_DOWNLOADS: '3', KEEPER_METRICS_LISTEN: '0.0.0.0:9464' })).to.include({ drainSeconds: 5, maxDownloads: 3, metricsListen: '0.0.0.0:9464' });
    expect(configError(() => loadServerConfig({}, { KEEPER_DRAIN_SECONDS: '0' }))).to.contain('KEEPER_DRAIN_SECONDS (got "0"): must be above zero');
    expect(configError(() => loadServerConfig({}, { KEEPER_MAX_DOWNLOADS_PER_USER: 'many' }))).to.contain('KEEPER_MAX_DOWNLOADS_PER_USER (got "many"): must be a number of downloads');
    expect(configError(() => loadServerConfig({ metricsListen: '9464' }, {}))).to.contain('--metrics-listen / KEEPER_METRICS_LISTEN (got "9464"): must be host:port');
  });

  it('serves reflection unless turned off, and names a bad value', () => {
    expect(loadServerConfig({}, {}).reflection).to.equal('on');
    expect(loadServerConfig({ reflection: 'off' }, { KEEPER_REFLECTION: 'on' }).reflection).to.equal('off');
    expect(configError(() => loadServerConfig({}, { KEEPER_REFLECTION: 'no' }))).to.contain('--reflection / KEEPER_REFLECTION (got "no"): must be on or off');
  });

  it('has image defaults and validates image settings', () => {
    const config = loadServerConfig({}, {});
    expect(config).to.include({ blobDir: '.keeper/blobs', imageMaxBytes: 25_000_000, imageMaxPixels: 100_000_000, imaging: 'inline', imagingConcurrency: 2, blobGcInterval: 3600 });
    expect(config.natsUrl).to.equal(undefined);
    expect(loadServerConfig({ dataDir: '/srv/k' }, { KEEPER_NATS_URL: 'nats://127.0.0.1:4222', KEEPER_IMAGING: 'external' })).to.include({
      blobDir: '/srv/k/blobs',
      natsUrl: 'nats://127.0.0.1:4222',
      imaging: 'external',
    });
    expect(configError(() => loadServerConfig({}, { KEEPER_NATS_URL: 'http://x' }))).to.contain('--nats-url / KEEPER_NATS_URL: must be a nats:// URL');
    expect(configError(() => loadServerConfig({}, { KEEPER_IMAGING: 'external' }))).to.contain('takes its jobs from NATS');
    expect(configError(() => loadServerConfig({}, { KEEPER_IMAGE_MAX_BYTES: 'big' }))).to.contain('KEEPER_IMAGE_MAX_BYTES (got "big"): must be a number of bytes');
    expect(configError(() => loadServerConfig({}, { KEEPER_IMAGING_CONCURRENCY: '0' }))).to.contain('must be above zero');
    expect(configError(() => loadServerConfig({}, { KEEPER_BLOB_GC_INTERVAL: '-1' }))).to.contain('must not be negative');
    expect(loadServerConfig({}, { KEEPER_NATS_PREFIX: 'TEAM_A', KEEPER_IMAGING_ACK_WAIT: '5' })).to.include({ natsPrefix: 'TEAM_A', imagingAckWait: 5 });
    expect(configError(() => loadServerConfig({}, { KEEPER_NATS_PREFIX: 'a.b' }))).to.contain('KEEPER_NATS_PREFIX (got "a.b"): must be letters, digits, - and _ only');
  });

  it('never echoes the token key', () => {
    expect(configError(() => loadServerConfig({}, { KEEPER_TOKEN_KEY: 'k4.local.not-a-secret-key' }))).to.not.contain('not-a-secret-key');
  });
});

describe('client config', () => {
  it('has defaults and validates', () => {
    const config = loadClientConfig({}, { HOME: '/home/x' });
    expect(config).to.include({ server: '127.0.0.1:7070', tls: false, timeoutMs: 15000 });
    expect(loadClientConfig({ tls: true }, {}).tls).to.equal(true);
    expect(loadClientConfig({}, { KEEPER_TLS: 'yes' }).tls).to.equal(true);
    expect(loadClientConfig({}, { KEEPER_TLS: '0' }).tls).to.equal(false);
    expect(configError(() => loadClientConfig({}, { KEEPER_TLS: 'maybe' }))).to.contain('--tls / KEEPER_TLS (got "maybe"): must be true or false');
    expect(configError(() => loadClientConfig({ server: 'nowhere' }, {}))).to.contain('--server / KEEPER_SERVER (got "nowhere")');
  });

  it('takes several replicas as a comma-separated list or a dns:/// name, and refuses a bad one with a sentence', () => {
    expect(loadClientConfig({ server: 'a:7070, b:7070 ,10.0.0.3:7071' }, {}).server).to.equal('a:7070,b:7070,10.0.0.3:7071');
    expect(loadClientConfig({}, { KEEPER_SERVER: 'dns:///keeper:7070' }).server).to.equal('dns:///keeper:7070');
    expect(loadClientConfig({ server: '[::1]:7070,[::1]:7071' }, {}).server).to.equal('[::1]:7070,[::1]:7071');
    for (const bad of ['a:7070,', 'a:7070,b', 'a:7070,a:7070', 'dns://keeper:7070', 'dns:///keeper', 'dns:///a:1,b:2']) {
      expect(configError(() => loadClientConfig({ server: bad }, {})), bad).to.contain('must be host:port, several distinct host:port separated by commas, or dns:///name:port');
    }
  });
});
