import type { JsonSchema } from '@roster/plugin-sdk';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Validates action input/output on the host against the manifest's JSON Schema (compiled once). */
export class SchemaValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly cache = new Map<string, ValidateFunction>();
  // In-process callers reuse manifest objects: skip serialising the schema for the lookup.
  private readonly bySchema = new WeakMap<JsonSchema, ValidateFunction>();

  constructor(private readonly maxCached = 1000) {
    addFormats.default(this.ajv);
  }

  validate(
    schema: JsonSchema,
    value: unknown,
  ): { valid: true } | { valid: false; issues: string[] } {
    let fn = this.bySchema.get(schema);
    if (!fn) {
      const key = JSON.stringify(schema);
      fn = this.cache.get(key);
      if (!fn) {
        fn = this.ajv.compile(schema);
        if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, fn);
      }
      this.bySchema.set(schema, fn);
    }
    if (fn(value)) return { valid: true };
    return {
      valid: false,
      issues: (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`),
    };
  }
}
