/**
 * YAML configuration files validated by a zod schema, with errors that name the file and
 * the line of the offending node: `FILE:LINE: path.to.field: reason`.
 */
import { parseDocument, LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';

interface Issue { readonly path: readonly PropertyKey[]; readonly message: string }
type SafeParse<T> = { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };

/**
 * The YAML node at a schema issue's path (for its line); for a missing key, the nearest
 * node that is there (the map that lacks it).
 */
function nodeAt(doc: YamlNode | null | undefined, p: readonly PropertyKey[]): YamlNode | undefined {
  let n: YamlNode | null | undefined = doc;
  for (const k of p) {
    let next: YamlNode | null | undefined;
    if (isMap(n)) next = n.get(k, true) as YamlNode | undefined;
    else if (isSeq(n)) next = n.get(Number(k), true) as YamlNode | undefined;
    if (next === undefined || next === null) return n ?? undefined;
    n = next;
  }
  return n ?? undefined;
}

/** Parse `text` and validate it; the first problem becomes `fail('FILE:LINE: …')`. */
export function parseYamlConfig<T>(text: string, file: string, schema: { safeParse(v: unknown): SafeParse<T> }, fail: (message: string) => Error): T {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw fail(`${file}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  }
  const r = schema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const n = nodeAt(doc.contents, issue.path);
    const line = n?.range ? lc.linePos(n.range[0]).line : 1;
    throw fail(`${file}:${line}: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}
