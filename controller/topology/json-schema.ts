/**
 * Writes controller/topology/topology.schema.json, the JSON Schema editors use for
 * topologies/*.yaml (`# yaml-language-server: $schema=…` at the top of each file):
 *
 *     node dist/controller/topology/json-schema.js [OUT]
 *
 * test/topology/schema.test.ts fails when the committed file differs from the schema.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { topologyJsonSchema } from './schema.js';

export const SCHEMA_FILE = 'controller/topology/topology.schema.json';

export function topologyJsonSchemaText(): string {
  return JSON.stringify(topologyJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? SCHEMA_FILE;
  if (out === '--help' || out === '-h') {
    console.log('usage: node dist/controller/topology/json-schema.js [OUT]\n\nWrites the topology JSON Schema (default: controller/topology/topology.schema.json).');
  } else {
    writeFileSync(out, topologyJsonSchemaText());
    console.log(`wrote ${out}`);
  }
}
