#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

// grpc-js names the TLS server by the address it dials, so a TLS client of 127.0.0.1 makes
// Node warn (DEP0123) on every connection. The certificate is still checked against that address;
// the warning is only noise in front of the command's own output.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];
  if (code === 'DEP0123') return;
  return emitWarning.call(this, warning, ...rest);
};

register();
await import('../src/cli/main.ts');
