export * from './config.js';
export * from './credentials.js';
export * from './errors.js';
export * from './passwords.js';
export * from './refresh-tokens.js';
export { AuthService, type AuthServiceOptions, type AuthSession, type Credentials } from './service.js';
export * from './throttle.js';
export * from './tokens.js';
export * from './users.js';
