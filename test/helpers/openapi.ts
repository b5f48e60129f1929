import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

/** Validators for OpenAI's response schemas (copied from the official OpenAPI spec of 2025-01-22). */
const file = path.resolve(import.meta.dirname, '../fixtures/openapi/schemas.json');
const { schemas } = JSON.parse(fs.readFileSync(file, 'utf8')) as { schemas: Record<string, Record<string, unknown>> };

/** OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a union with null. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.replace('#/components/schemas/', 'openai#/definitions/');
    else if (k === 'nullable' || k === 'x-oaiMeta' || k === 'x-oaiTypeLabel' || k === 'example' || k === 'deprecated' || k === 'discriminator') continue;
    else out[k] = toJsonSchema(v);
  }
  if ((node as Record<string, unknown>).nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'openai', definitions: toJsonSchema(schemas) as Record<string, unknown> });
const cache = new Map<string, ValidateFunction>();

/** Throws with every violation if `value` does not match OpenAI's schema `name`. */
export function assertMatchesSchema(name: string, value: unknown): void {
  let validate = cache.get(name);
  if (!validate) {
    validate = ajv.compile({ $ref: `openai#/definitions/${name}` });
    cache.set(name, validate);
  }
  if (!validate(value)) {
    throw new Error(
      `response does not match OpenAI's ${name} schema:\n${ajv.errorsText(validate.errors, { separator: '\n' })}\n${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}
