#!/usr/bin/env node
// Regenerates src/gen from proto/ with buf and ts-proto (no network, no grpc-tools).
// With --out DIR it writes there instead, which the staleness test uses.
import { execFileSync } from 'node:child_process';
import { rmSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'src/gen');

const template = readFileSync(join(root, 'buf.gen.yaml'), 'utf8').replace('out: src/gen', `out: ${out}`);
const templateFile = join(mkdtempSync(join(tmpdir(), 'keeper-buf-')), 'buf.gen.yaml');
writeFileSync(templateFile, template);

rmSync(out, { recursive: true, force: true });
execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--template', templateFile], { cwd: root, stdio: 'inherit' });
