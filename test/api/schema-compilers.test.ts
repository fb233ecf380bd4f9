import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createLazySerializerFactory } from '../../src/api/serialization.ts';
import { createValidatorCompiler } from '../../src/api/validation.ts';

describe('schema compilers: compiled on first use, same results as compiled at registration', () => {
  it('compiles a validator only when it first validates', () => {
    const compiler = createValidatorCompiler();
    // An invalid schema: Ajv throws when it compiles it.
    const validate = compiler({ schema: { type: 'no-such-type' }, method: 'GET', url: '/x', httpPart: 'querystring' });
    assert.throws(() => validate({}), /no-such-type|type/);
  });

  it('coerces query strings and root values, validates bodies strictly and reports the errors', async () => {
    const validatorCompiler = createValidatorCompiler();
    const app = Fastify({ schemaController: { compilersFactory: { buildValidator: () => validatorCompiler } } });
    app.post('/items/:id', {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
        querystring: { type: 'object', properties: { limit: { type: 'integer', default: 10 } } },
        body: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false },
      },
    }, async (request) => ({ params: request.params, query: request.query, body: request.body }));
    const ok = await app.inject({ method: 'POST', url: '/items/7?limit=3', payload: { n: 1 } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { params: { id: 7 }, query: { limit: 3 }, body: { n: 1 } });
    const defaulted = await app.inject({ method: 'POST', url: '/items/7', payload: { n: 1 } });
    assert.deepEqual(defaulted.json().query, { limit: 10 });
    const strict = await app.inject({ method: 'POST', url: '/items/7', payload: { n: '1' } });
    assert.equal(strict.statusCode, 400);
    assert.match(strict.json().message, /body\/n must be integer/);
    await app.close();
  });

  it('serializes responses through their schema (unlisted properties dropped, types coerced)', async () => {
    const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: createLazySerializerFactory() } } });
    app.get('/thing', {
      schema: { response: { 200: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' } } } } },
    }, async () => ({ a: '42', b: 7, secret: 'not listed' }));
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ method: 'GET', url: '/thing' });
      assert.equal(res.body, '{"a":42,"b":"7"}');
    }
    await app.close();
  });
});
