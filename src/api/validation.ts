/**
 * Request validation: one Ajv for JSON bodies, one for query strings and path parameters.
 *
 * Fastify's default Ajv coerces types and silently strips unknown properties everywhere. That is
 * right for query strings (every value arrives as a string) but wrong for JSON bodies: a client
 * sending `"maxPages": "10"`, `"seeds": "http://a"` or a misspelt `"maxDepht"` deserves a 400 that
 * names the field, not a guess. So bodies are validated strictly and everything else with coercion.
 */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { FastifyServerOptions } from 'fastify';

// Ajv (about 60 modules) is required when the first schema is compiled, not when the API is built.
const requireAjv = (): typeof Ajv => (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv;

/** What Fastify's `schemaController.compilersFactory.buildValidator` returns. */
type ValidatorCompiler = ReturnType<NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>>;

const COMMON = {
  useDefaults: true,
  removeAdditional: false,
  // allErrors lets a crafted body make validation quadratic; the first error is enough.
  allErrors: false,
  // OpenAPI annotations (`description`, `examples`) are not validation keywords.
  strict: false,
} as const;

/**
 * Builds Fastify's validator compiler: strict for `body`, coercing for the other parts. Each schema
 * is compiled on its route's first request rather than when the route is registered: compiling
 * them all was the largest part of `owl serve`'s start-up (issue #10), and most routes are never
 * called by a given process.
 */
export function createValidatorCompiler(): ValidatorCompiler {
  let strictAjv: Ajv | undefined;
  let coercingAjv: Ajv | undefined;
  const ajvFor = (httpPart: string | undefined): Ajv => {
    if (httpPart === 'body') {
      strictAjv ??= new (requireAjv())({ ...COMMON, coerceTypes: false });
      return strictAjv;
    }
    coercingAjv ??= new (requireAjv())({ ...COMMON, coerceTypes: true });
    return coercingAjv;
  };
  return ({ schema, httpPart }) => compiledOnFirstUse(() => ajvFor(httpPart).compile(schema as object));
}

/** A validate function that compiles the real one when it is first called or inspected. */
function compiledOnFirstUse(compile: () => ValidateFunction): ValidateFunction {
  let compiled: ValidateFunction | undefined;
  const real = (): ValidateFunction => {
    compiled ??= compile();
    return compiled;
  };
  const validate = ((...args: Parameters<ValidateFunction>) => real()(...args)) as ValidateFunction;
  // Fastify reads `schemaEnv` before validating (to pass the parent, so a coerced root value is
  // written back) and `errors` after a failure: both are the real function's.
  Object.defineProperties(validate, {
    schemaEnv: { get: () => real().schemaEnv },
    errors: { get: () => real().errors },
  });
  return validate;
}

/** Where a validation error happened, as Fastify reports it. */
export type ValidationPart = 'body' | 'querystring' | 'params' | 'headers';

const MAX_ECHO = 64;

function quote(value: unknown): string {
  const s = String(value);
  return JSON.stringify(s.length > MAX_ECHO ? `${s.slice(0, MAX_ECHO)}…` : s);
}

/** `/seeds/0` → `seeds[0]`; `/a/b` → `a.b`; JSON-pointer escapes undone. */
function fieldName(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function child(parent: string, prop: string): string {
  return parent === '' ? prop : `${parent}.${prop}`;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'an array',
  object: 'a JSON object',
  null: 'null',
};

function describePart(part: ValidationPart): string {
  switch (part) {
    case 'body': return 'the body';
    case 'querystring': return 'the query string';
    case 'params': return 'the path';
    default: return 'the headers';
  }
}

/**
 * Turns Ajv's first error into a sentence naming the field and the rule, e.g.
 * `seeds[0] must be a string`, `maxPages must be ≤ 1000000`, `the body has an unknown property "maxDepht"`.
 */
export function describeValidationError(error: ErrorObject, part: ValidationPart): string {
  const path = fieldName(error.instancePath);
  const prefix = part === 'querystring' ? 'query parameter ' : '';
  const field = path === '' ? describePart(part) : `${prefix}${path}`;
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${prefix}${child(path, String(p.missingProperty))} is required`;
    case 'additionalProperties':
      return `${path === '' ? describePart(part) : field} has an unknown property ${quote(p.additionalProperty)}`;
    case 'type': {
      const types = String(p.type).split(',');
      return `${field} must be ${types.map((t) => ARTICLE[t] ?? t).join(' or ')}`;
    }
    case 'minItems':
      return `${field} must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `${field} must have at most ${p.limit} items`;
    case 'minLength':
      return Number(p.limit) === 1 ? `${field} must not be empty` : `${field} must be at least ${p.limit} characters long`;
    case 'maxLength':
      return `${field} must be at most ${p.limit} characters long`;
    case 'minimum':
      return `${field} must be ≥ ${p.limit}`;
    case 'maximum':
      return `${field} must be ≤ ${p.limit}`;
    case 'enum':
      return `${field} must be one of: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
    case 'pattern':
      return `${field} must match ${p.pattern}`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}
