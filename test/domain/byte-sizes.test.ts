import { expect } from 'chai';
import { formatBytes, formatBytesExactly } from '../../src/domain/byte-sizes.js';

describe('byte sizes (SI)', () => {
  it('says B, KB, MB and GB in powers of 1,000', () => {
    expect(formatBytes(0)).to.equal('0 B');
    expect(formatBytes(67)).to.equal('67 B');
    expect(formatBytes(999)).to.equal('999 B');
    expect(formatBytes(1000)).to.equal('1.0 KB');
    expect(formatBytes(34_500)).to.equal('34.5 KB');
    expect(formatBytes(83_000)).to.equal('83.0 KB');
    expect(formatBytes(1_000_000)).to.equal('1.0 MB');
    // The size from the report: 9.6 MB was MiB under an MB label.
    expect(formatBytes(10_037_490)).to.equal('10.0 MB');
    expect(formatBytes(26_214_400)).to.equal('26.2 MB');
    expect(formatBytes(3_500_000_000)).to.equal('3.5 GB');
  });

  it('moves up a unit instead of printing 1000.0', () => {
    expect(formatBytes(999_949)).to.equal('999.9 KB');
    expect(formatBytes(999_960)).to.equal('1.0 MB');
    expect(formatBytes(999_960_000)).to.equal('1.0 GB');
  });

  it('gives the exact count beside the short form where it matters', () => {
    expect(formatBytesExactly(25_000_000)).to.equal('25 MB (25,000,000 bytes)');
    expect(formatBytesExactly(30_123_456)).to.equal('30.1 MB (30,123,456 bytes)');
    expect(formatBytesExactly(512)).to.equal('512 bytes');
  });

  it('never prints NaN or a negative fraction', () => {
    expect(formatBytes(Number.NaN)).to.equal('0 B');
    expect(formatBytes(12.6)).to.equal('13 B');
  });
});
