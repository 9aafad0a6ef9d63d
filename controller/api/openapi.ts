/**
 * The OpenAPI 3.1 document of the REST API, generated from the route table (server.ts) and
 * its zod schemas: OpenAPI 3.1 schemas are JSON Schema 2020-12, which zod emits directly.
 * Named schemas (`.meta({ id })`) go to components/schemas and are referred to by $ref.
 */
import { z } from 'zod/v4';

export interface RouteDoc {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** fastify form: /api/v1/services/:name */
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  /** needs Authorization: Bearer TOKEN */
  readonly auth?: boolean;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
}

type Json = Record<string, unknown>;

export const API_VERSION = '1.0.0';

export function openApiDocument(routes: readonly RouteDoc[]): Json {
  const components: Record<string, Json> = {};
  /** JSON Schema of a zod schema; named sub-schemas are collected into components. */
  const schemaOf = (s: z.ZodType, io: 'input' | 'output'): Json => {
    const raw = JSON.stringify(z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }));
    const out = JSON.parse(raw.replace(/"#\/\$defs\//g, '"#/components/schemas/')) as Json;
    const defs = (out.$defs ?? {}) as Record<string, Json>;
    for (const [k, v] of Object.entries(defs)) { const { id: _id, ...rest } = v; components[k] = rest; }
    delete out.$defs;
    delete out.$schema;
    const id = (out as { id?: string }).id;
    if (typeof id === 'string') {
      delete (out as { id?: string }).id;
      components[id] = out;
      return { $ref: `#/components/schemas/${id}` };
    }
    return out;
  };
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, p] of Object.entries(js.properties ?? {})) {
        const { description, ...rest } = p as Json & { description?: string };
        parameters.push({
          name, in: where, required: where === 'path' || (js.required ?? []).includes(name),
          ...(description ? { description } : {}), schema: rest,
        });
      }
    }
    const responses: Record<string, Json> = {};
    for (const [code, a] of Object.entries(r.responses)) {
      responses[code] = {
        description: a.description,
        ...(a.schema ? { content: { 'application/json': { schema: schemaOf(a.schema, 'output') } } } : {}),
      };
    }
    if (r.auth) {
      responses['401'] ??= { description: 'missing or wrong API token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      responses['403'] ??= { description: 'the controller has no API token: changes are disabled', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    if ((r.params || r.query || r.body) && !responses['400']) {
      responses['400'] = { description: 'bad input', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').split(/[/._-]/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`,
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } } } : {}),
      responses,
      ...(r.auth ? { security: [{ bearer: [] }] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'nfvnode controller API',
      version: API_VERSION,
      description: 'Datapaths, ports and flows (read); NSOD services, NF instances and the VLAN table; Prometheus metrics. Changes need Authorization: Bearer TOKEN. Errors are {error, message, details}.',
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the API token of the controller' } },
    },
  };
}
