export * from './limits.js';
export * from './record.js';
export * from './events.js';
export * from './commands.js';
export * from './errors.js';
export * from './decider.js';
export * from './vault-state.js';
