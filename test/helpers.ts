/** Paths every test needs: the repository root and `../shared` beside it. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// Tests run compiled, from dist/test/…; the root is the folder holding package.json.
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
export const sharedDir = process.env.NFVNODE_SHARED ?? path.resolve(repoRoot, '../shared');
export const vectorsDir = path.join(sharedDir, 'vectors/openflow13');
