#!/usr/bin/env node
// The `openecm` command: the compiled CLI after `npm run build`, the TypeScript itself in a checkout.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
const built = join(root, 'dist', 'tools', 'cli', 'src', 'main.js');
if (existsSync(built)) {
  require(built);
} else {
  // the workspace's tsconfig resolves the @openecm/* imports wherever the command is run from
  process.env.SWC_NODE_PROJECT ??= join(root, 'tsconfig.json');
  require('@swc-node/register');
  require(join(root, 'tools', 'cli', 'src', 'main.ts'));
}
