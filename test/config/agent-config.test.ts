import { expect } from 'chai';
import { loadAgentConfig } from '../../src/config/agent-config.js';
import { refusal } from '../support/config-refusal.js';

describe('agent config', () => {
  it('listens on loopback port 7071 by default, with lifetimes and limits a user can read', () => {
    const config = loadAgentConfig({}, {});
    expect(config).to.include({ listen: '127.0.0.1:7071', host: '127.0.0.1', port: 7071, loopback: true, idleLockMinutes: 15, tokenIdleMinutes: 60, tokenAbsoluteHours: 24, maxUsers: 2000 });
    expect(config.allowedOrigins).to.deep.equal([]);
  });

  it('takes flags over KEEPER_AGENT_* variables, and lists split on commas', () => {
    const config = loadAgentConfig({ listen: '127.0.0.1:9000' }, { KEEPER_AGENT_LISTEN: '127.0.0.1:8000', KEEPER_AGENT_ALLOWED_ORIGINS: 'https://a.example, https://b.example', KEEPER_AGENT_MAX_USERS: '10' });
    expect(config.port).to.equal(9000);
    expect(config.allowedOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
    expect(config.maxUsers).to.equal(10);
  });

  it('refuses to listen beyond loopback without a certificate, naming the settings', () => {
    const message = refusal(() => loadAgentConfig({ listen: '0.0.0.0:7071' }, {}));
    expect(message).to.match(/not a loopback address/).and.match(/KEEPER_AGENT_TLS_CERT/).and.match(/KEEPER_AGENT_TLS_KEY/);
    expect(loadAgentConfig({ listen: '0.0.0.0:7071', agentTlsCert: 'a.crt', agentTlsKey: 'a.key' }, {}).loopback).to.equal(false);
  });

  it('names each bad value and what is expected', () => {
    expect(refusal(() => loadAgentConfig({ listen: 'nowhere' }, {}))).to.match(/--listen \/ KEEPER_AGENT_LISTEN \(got "nowhere"\): must be host:port/);
    expect(refusal(() => loadAgentConfig({}, { KEEPER_AGENT_IDLE_LOCK_MINUTES: '-1' }))).to.match(/KEEPER_AGENT_IDLE_LOCK_MINUTES.*above zero/);
    expect(refusal(() => loadAgentConfig({}, { KEEPER_AGENT_MAX_USERS: 'many' }))).to.match(/KEEPER_AGENT_MAX_USERS.*whole number/);
  });
});
