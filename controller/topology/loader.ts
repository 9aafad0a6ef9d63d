/**
 * Loading a topology file: YAML → schema → a Topology, or a TopologyError that says
 * `FILE:LINE: path: reason` (the line of the node the reason is about, found through the
 * YAML document's source ranges, as controller/config.ts does for the controller config).
 */
import { readFileSync } from 'node:fs';
import { parseDocument, LineCounter, isMap, isSeq, isPair, type Node as YamlNode } from 'yaml';
import { TopologySchema, type Topology } from './schema.js';

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  constructor(message: string, readonly file: string, readonly line: number, readonly issues: readonly string[] = [message]) { super(message); }
}

/**
 * A schema issue as path and reason. A union ("string or number", "one entry or a list")
 * that failed says why in the branch of the right type: that branch's issue (its path
 * appended) is used instead of a bare "Invalid input".
 */
export interface FlatIssue { readonly path: PropertyKey[]; readonly message: string; readonly code: string; readonly keys?: string[] }
export function flattenIssue(issue: { code: string; message: string; path: PropertyKey[]; errors?: unknown; keys?: string[] }): FlatIssue {
  if (issue.code === 'invalid_union' && Array.isArray(issue.errors)) {
    for (const branch of issue.errors as { code: string; message: string; path: PropertyKey[] }[][]) {
      const meaningful = branch.find((i) => i.code !== 'invalid_type');
      if (meaningful) {
        const inner = flattenIssue(meaningful);
        return { ...inner, path: [...issue.path, ...inner.path] };
      }
    }
  }
  return { path: issue.path, message: issue.message, code: issue.code, ...(issue.keys ? { keys: issue.keys } : {}) };
}

/** The YAML node at a schema issue path (the deepest one that exists). */
function nodeAt(doc: YamlNode | null | undefined, p: readonly PropertyKey[]): YamlNode | undefined {
  let n: YamlNode | null | undefined = doc;
  for (const k of p) {
    let next: unknown;
    if (isMap(n)) {
      next = n.get(k as string, true);
      // a key that is present but wrong (e.g. an unknown key): point at the key itself
      if (next === undefined) {
        const pair = n.items.find((it) => isPair(it) && (it.key as { value?: unknown } | null)?.value === k);
        if (pair && isPair(pair)) return (pair.key as YamlNode) ?? n;
      }
    } else if (isSeq(n)) next = n.get(Number(k), true);
    else return n ?? undefined;
    if (next === undefined || next === null || typeof next !== 'object') return n ?? undefined;
    n = next as YamlNode;
  }
  return n ?? undefined;
}

/** Parse and validate topology text. Every issue is in `issues`; the message is the first. */
export function parseTopology(text: string, file = '<topology>'): Topology {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const all = doc.errors.map((e) => `${file}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    throw new TopologyError(all[0], file, lc.linePos(doc.errors[0].pos[0]).line, all);
  }
  let value: unknown;
  try { value = doc.toJS({ maxAliasCount: 100 }); } catch (e) {
    throw new TopologyError(`${file}:1: ${(e as Error).message}`, file, 1);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const line = doc.contents?.range ? lc.linePos(doc.contents.range[0]).line : 1;
    throw new TopologyError(`${file}:${line}: (top level): a topology is a mapping (name:, switches: …)`, file, line);
  }
  const r = TopologySchema.safeParse(value);
  if (r.success) return r.data;
  const lines: number[] = [];
  const all = r.error.issues.map((raw) => {
    const issue = flattenIssue(raw as Parameters<typeof flattenIssue>[0]);
    const at = issue.code === 'unrecognized_keys' && issue.keys ? [...issue.path, issue.keys[0]] : issue.path;
    const n = nodeAt(doc.contents, at);
    const line = n?.range ? lc.linePos(n.range[0]).line : 1;
    lines.push(line);
    return `${file}:${line}: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`;
  });
  throw new TopologyError(all[0], file, lines[0], all);
}

export function loadTopology(file: string): Topology {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new TopologyError(`${file}: ${(e as Error).message}`, file, 0); }
  return parseTopology(text, file);
}

/** The datapath id of a topology switch as a bigint. */
export function dpidOf(sw: { dpid: string | number }): bigint { return BigInt(sw.dpid); }
