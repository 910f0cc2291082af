import { expect } from 'chai';
import { ConfigError } from '../../src/config/env.js';

/** The sentence a config loader refuses the settings with; fails the test when it takes them. */
export function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the settings to be refused');
}
