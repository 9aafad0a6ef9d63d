/**
 * Controller configuration (YAML), validated with zod. A bad file is refused with the file,
 * the line and the reason. Example: docs/controller.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYamlConfig } from './yaml.js';
import { z } from 'zod';

const dpid = z.union([z.string().regex(/^(0x[0-9a-fA-F]{1,16}|\d+)$/, 'a datapath id: 0x… hex or decimal'), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));
const port = z.number().int().min(1).max(0xffffff00);

export const ConfigSchema = z.object({
  listen: z.object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(6653),
    tls: z.object({ cert: z.string(), key: z.string(), ca: z.string() }).strict().optional(),
  }).strict().optional(),
  /** Switches that listen (passive mode): tcp:HOST:PORT or tls:HOST:PORT. */
  connect: z.array(z.string().regex(/^(tcp|tls):(\[[^\]]+\]|[^:]+):\d+$/, 'tcp:HOST:PORT or tls:HOST:PORT')).default([]),
  /** Topology file (topologies/*.yaml) whose NF instances, services and VLAN tables NSOD loads. */
  topology: z.string().optional(),
  /** Northbound REST API (docs/rest-api.md); changes need the token (or NFVNODE_API_TOKEN). */
  api: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    token: z.string().min(8).optional(),
  }).strict().optional(),
  /** SQLite file holding desired state (relative to the config file). */
  store: z.string().default('nfvnode.db'),
  /** equal: no ROLE_REQUEST; master: always master; auto: master lease in the store (fail-over). */
  role: z.enum(['equal', 'master', 'auto']).default('equal'),
  lease_ttl_ms: z.number().int().min(300).max(600_000).default(3000),
  echo_interval_ms: z.number().int().min(100).default(5000),
  dead_after_ms: z.number().int().min(300).default(15000),
  /** Optional apps. learning: reactive learning switch answering packet-ins with packet-outs. */
  apps: z.object({
    learning: z.object({ max_macs: z.number().int().min(1).default(100_000) }).strict().optional(),
  }).strict().default({}),
  switches: z.array(z.object({
    dpid,
    patches: z.array(z.tuple([port, port])).default([]),
    service_tables: z.object({
      bras: z.number().int().min(1).max(254).optional(),
      sip: z.number().int().min(1).max(254).optional(),
      /** NSOD's table (and the next one, for return traffic): the rest goes there. */
      nsod: z.number().int().min(1).max(253).optional(),
    }).strict().optional(),
  }).strict()).default([]),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse and validate; relative paths become relative to the file's folder. */
export function parseConfig(text: string, file = '<config>'): Config {
  const cfg = parseYamlConfig(text, file, ConfigSchema, (m) => new ConfigError(m));
  const dir = path.dirname(file);
  const abs = (p: string) => (path.isAbsolute(p) || p === ':memory:' ? p : path.join(dir, p));
  return {
    ...cfg,
    store: abs(cfg.store),
    ...(cfg.topology ? { topology: abs(cfg.topology) } : {}),
    ...(cfg.listen?.tls ? { listen: { ...cfg.listen, tls: { cert: abs(cfg.listen.tls.cert), key: abs(cfg.listen.tls.key), ca: abs(cfg.listen.tls.ca) } } } : {}),
  };
}

export function loadConfig(file: string): Config {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new ConfigError(`${file}: ${(e as Error).message}`); }
  return parseConfig(text, file);
}
