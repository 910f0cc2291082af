import { expect } from 'chai';
import { grpcTarget } from '../../src/client/server-target.js';

describe('the gRPC target of a server setting', () => {
  it('gives an address of IP literals to grpc-js as it is (ipv4:/ipv6:), with no name resolution', () => {
    expect(grpcTarget('127.0.0.1:7070')).to.equal('ipv4:127.0.0.1:7070');
    expect(grpcTarget('10.1.2.3:443')).to.equal('ipv4:10.1.2.3:443');
    expect(grpcTarget('[::1]:7070')).to.equal('ipv6:[::1]:7070');
    expect(grpcTarget('[2001:db8::1]:7070')).to.equal('ipv6:[2001:db8::1]:7070');
  });

  it('leaves host names, DNS targets and what only looks like an address to the DNS resolver', () => {
    for (const server of ['localhost:7070', 'keeper.example:7070', 'dns:///keeper:7070', '999.1.1.1:7070', '1.2.3:7070', '[nothex]:7070']) {
      expect(grpcTarget(server), server).to.equal(server);
    }
  });

  it('sends a list of replicas to the list resolver', () => {
    expect(grpcTarget('127.0.0.1:7070,127.0.0.1:7071')).to.equal('keeper-list:///127.0.0.1:7070,127.0.0.1:7071');
  });
});
