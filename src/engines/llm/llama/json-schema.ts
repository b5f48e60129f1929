/**
 * OpenAI-style JSON Schema → the JSON-schema subset node-llama-cpp turns into a grammar
 * (`GbnfJsonSchema`: type, const, enum, oneOf, properties, additionalProperties, items,
 * prefixItems, min/max items/properties/length, string formats date/time/date-time, $defs/$ref).
 *
 * Why a converter: node-llama-cpp's grammar builder silently turns anything it does not know into
 * `null` (e.g. `{}` meaning "any value", or `anyOf`), and ignores `required`. The rules below keep
 * every output valid against the *original* schema:
 * - every listed property is generated (a superset of `required`, always valid);
 * - `additionalProperties` defaults to false when properties are listed (extra keys are allowed by
 *   JSON Schema but never needed) and to "any value" when none are (`{"type":"object"}`);
 * - `anyOf` / `oneOf` become alternatives, `allOf` of objects is merged, `nullable` adds `null`;
 * - `{}` / `true` / unknown shapes become "any JSON value";
 * - keywords a grammar cannot express (`pattern`, `minimum`, `multipleOf`, `not`, …) are dropped, so
 *   outputs may violate them; OpenAI's strict mode rejects most of them anyway.
 * Pure data in, pure data out: no node-llama-cpp import, so it is unit-testable without the model.
 */

/** A JSON value (what schemas are made of). */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The node-llama-cpp schema shape (structurally `GbnfJsonSchema`; kept loose to avoid its deep generics). */
export type GrammarSchema = { readonly [key: string]: unknown };

const STRING_FORMATS = new Set(['date-time', 'time', 'date']);

/** "Any JSON value": primitives, any object, any array. */
export const ANY_JSON_SCHEMA: GrammarSchema = Object.freeze({
  oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'object', additionalProperties: true }, { type: 'array' }],
});

/** Converts `schema` (draft 2020-12 / OpenAPI flavoured, as OpenAI accepts it) for node-llama-cpp. */
export function toGrammarSchema(schema: unknown): GrammarSchema {
  const root = isObject(schema) ? schema : {};
  const defs = collectDefs(root);
  const converted = convert(schema, defs, 0);
  const defNames = Object.keys(defs);
  if (defNames.length === 0) return converted;
  // node-llama-cpp resolves `#/$defs/x` against `$defs` on the schema holding the reference or
  // an enclosing one: putting every definition on a root `oneOf` makes them visible everywhere.
  const convertedDefs: Record<string, GrammarSchema> = {};
  for (const name of defNames) convertedDefs[name] = convert(defs[name], defs, 0);
  return { oneOf: [converted], $defs: convertedDefs };
}

function collectDefs(root: JsonObject): Record<string, Json> {
  const defs: Record<string, Json> = {};
  for (const key of ['definitions', '$defs'] as const) {
    const d = root[key];
    if (isObject(d)) for (const [name, value] of Object.entries(d)) defs[name] = value;
  }
  return defs;
}

function convert(schema: unknown, defs: Record<string, Json>, depth: number): GrammarSchema {
  if (depth > 64) return ANY_JSON_SCHEMA;
  if (schema === true || schema === undefined) return ANY_JSON_SCHEMA;
  if (!isObject(schema)) return ANY_JSON_SCHEMA; // `false` cannot be generated at all; "any" is the least surprising
  const description = typeof schema.description === 'string' ? { description: schema.description } : {};
  const next = (s: unknown): GrammarSchema => convert(s, defs, depth + 1);

  let result = convertShape(schema, defs, depth, next);
  if (schema.nullable === true && !allowsNull(result)) result = { oneOf: [result, { type: 'null' }] };
  return { ...result, ...description };
}

function convertShape(schema: JsonObject, defs: Record<string, Json>, depth: number, next: (s: unknown) => GrammarSchema): GrammarSchema {
  if (typeof schema.$ref === 'string') {
    const name = refName(schema.$ref);
    if (name !== undefined && name in defs) return { $ref: `#/$defs/${name}` };
    return ANY_JSON_SCHEMA; // recursion to the root (`#`) or a remote reference: not expressible
  }
  if ('const' in schema) {
    const c = schema.const;
    return isPrimitive(c) ? { const: c } : ANY_JSON_SCHEMA;
  }
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.filter(isPrimitive);
    if (values.length > 0 && values.length === schema.enum.length) return { enum: values };
    return ANY_JSON_SCHEMA;
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const options = alternatives.map(next);
    return options.length === 1 ? options[0]! : { oneOf: options };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return convert(mergeAllOf(schema), defs, depth + 1);
  }

  const types = typeList(schema);
  if (types.length === 0) return ANY_JSON_SCHEMA;
  if (types.length > 1) {
    const primitives = types.filter((t) => t !== 'object' && t !== 'array' && t !== 'string');
    const parts: GrammarSchema[] = [];
    if (primitives.length > 0) parts.push({ type: primitives });
    for (const t of types) if (t === 'object' || t === 'array' || t === 'string') parts.push(convertShape({ ...schema, type: t }, defs, depth, next));
    return parts.length === 1 ? parts[0]! : { oneOf: parts };
  }

  const type = types[0]!;
  switch (type) {
    case 'string': {
      if (typeof schema.format === 'string' && STRING_FORMATS.has(schema.format)) return { type: 'string', format: schema.format };
      const out: Record<string, unknown> = { type: 'string' };
      if (isCount(schema.minLength)) out.minLength = schema.minLength;
      if (isCount(schema.maxLength)) out.maxLength = schema.maxLength;
      return out;
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type };
    case 'object': {
      const props = isObject(schema.properties) ? schema.properties : undefined;
      const out: Record<string, unknown> = { type: 'object' };
      const names = props ? Object.keys(props) : [];
      if (props && names.length > 0) {
        const converted: Record<string, GrammarSchema> = {};
        for (const name of names) converted[name] = next(props[name]);
        out.properties = converted;
      }
      // Listed properties: generate exactly those (extra keys are allowed but never needed, and
      // forbidding them helps small models finish). None listed: a map of any (or typed) values.
      const extra = schema.additionalProperties;
      if (names.length > 0 || extra === false) out.additionalProperties = false;
      else if (isObject(extra) && Object.keys(extra).length > 0) out.additionalProperties = next(extra);
      else out.additionalProperties = true;
      if (names.length === 0 && isCount(schema.minProperties)) out.minProperties = schema.minProperties;
      if (names.length === 0 && isCount(schema.maxProperties)) out.maxProperties = schema.maxProperties;
      return out;
    }
    case 'array': {
      const out: Record<string, unknown> = { type: 'array' };
      if (schema.items !== undefined && schema.items !== true && !Array.isArray(schema.items)) out.items = next(schema.items);
      const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined;
      if (prefix) out.prefixItems = prefix.map(next);
      if (isCount(schema.minItems)) out.minItems = schema.minItems;
      if (isCount(schema.maxItems)) out.maxItems = schema.maxItems;
      return out;
    }
    default:
      return ANY_JSON_SCHEMA;
  }
}

/** The schema's types: its `type` (string or list), else inferred from the keywords it uses. */
function typeList(schema: JsonObject): string[] {
  const t = schema.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  if (isObject(schema.properties) || schema.additionalProperties !== undefined || schema.required !== undefined) return ['object'];
  if (schema.items !== undefined || schema.prefixItems !== undefined) return ['array'];
  if (schema.minLength !== undefined || schema.maxLength !== undefined || schema.format !== undefined) return ['string'];
  return [];
}

/** `allOf` of object schemas → one object schema (properties united, first type wins). */
function mergeAllOf(schema: JsonObject): JsonObject {
  const { allOf, ...rest } = schema;
  const merged: JsonObject = { ...rest };
  const properties: JsonObject = isObject(rest.properties) ? { ...rest.properties } : {};
  for (const part of allOf as Json[]) {
    if (!isObject(part)) continue;
    if (isObject(part.properties)) Object.assign(properties, part.properties);
    for (const [k, v] of Object.entries(part)) if (k !== 'properties' && !(k in merged)) merged[k] = v;
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  return merged;
}

function refName(ref: string): string | undefined {
  for (const prefix of ['#/$defs/', '#/definitions/']) if (ref.startsWith(prefix)) return decodeURIComponent(ref.slice(prefix.length));
  return undefined;
}

function allowsNull(schema: GrammarSchema): boolean {
  const t = schema.type;
  return t === 'null' || (Array.isArray(t) && t.includes('null'));
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
