/**
 * zod 4 -> OpenAPI 3.0 schema objects, so request bodies are documented from the very schema that
 * validates them (no second, drifting description).
 */
import { applyDecorators } from '@nestjs/common';
import { ApiBody, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The OpenAPI 3.0 schema object of a zod schema. `io: 'input'` (the default) documents what a client sends,
 * i.e. before defaults and transforms apply. Types JSON cannot carry (dates, bigints) become `{}`, rather than
 * making the document fail to build.
 */
export function zodToOpenApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  // OpenAPI schema objects do not take a JSON Schema dialect marker.
  delete json.$schema;
  return json as SchemaObject;
}

/** `@ApiBody` for a zod-validated JSON body (use it when validating with `@Body(new ZodBodyPipe(schema))`). */
export function ApiZodBody(schema: z.ZodType, description?: string): MethodDecorator {
  return applyDecorators(ApiBody({ schema: zodToOpenApiSchema(schema), required: true, description }));
}
