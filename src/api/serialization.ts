/**
 * Response serialization: Fastify's own serializer (fast-json-stringify, through
 * @fastify/fast-json-stringify-compiler, the version Fastify itself requires), with each response
 * schema compiled on its first response rather than when its route is registered. Compiling them
 * all made up a good part of `owl serve`'s start-up (issue #10); the output is the same.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type SerializerFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']>;
type RouteSerializerCompiler = ReturnType<SerializerFactory>;
type Serialize = ReturnType<RouteSerializerCompiler>;

/** Fastify's default serializer factory, required from where Fastify resolves it. */
function fastifyDefaultFactory(): SerializerFactory {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const SerializerSelector = fromFastify('@fastify/fast-json-stringify-compiler') as () => SerializerFactory;
  return SerializerSelector();
}

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
export function createLazySerializerFactory(): SerializerFactory {
  let defaultFactory: SerializerFactory | undefined;
  return (externalSchemas, serializerOpts) => {
    let compiler: RouteSerializerCompiler | undefined;
    return (routeSchema) => {
      let serialize: Serialize | undefined;
      return (data) => {
        if (serialize === undefined) {
          defaultFactory ??= fastifyDefaultFactory();
          compiler ??= defaultFactory(externalSchemas, serializerOpts);
          serialize = compiler(routeSchema);
        }
        return serialize(data);
      };
    };
  };
}
