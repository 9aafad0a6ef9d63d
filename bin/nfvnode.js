#!/usr/bin/env node
// Launcher: the CLI is TypeScript compiled to dist/ by `npm run build` (npm start/test do it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/controller/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('nfvnode: not built yet — run `npm start` or `npm run build` in the repository first');
  process.exit(1);
}
const { cli } = await import(main);
process.exitCode = await cli(process.argv.slice(2));
