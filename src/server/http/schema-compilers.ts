/**
 * The validator and serializer compilers of every app this process builds.
 *
 * Fastify's defaults make a new Ajv for each app and compile every route's schemas again,
 * which is most of the time it takes to build one. The schemas are the same constants each
 * time, so a compiled function is kept by the JSON of its schema, of the shared schemas
 * (`addSchema`) and of the options it was compiled with: a second app in the same process
 * (a restart in place, a test file's apps) reuses what the first compiled, and two apps with
 * different options never share a function. The functions are pure (they validate or write
 * what they are given), so sharing one between apps shares no state.
 *
 * No route has a headers schema; Fastify lower-cases one only for its default compiler.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type BuildValidator = NonNullable<Compilers['buildValidator']>;
type BuildSerializer = NonNullable<Compilers['buildSerializer']>;

function memoised<Build extends (externalSchemas: unknown, options: unknown) => (route: { schema: unknown }) => unknown>(
  build: Build,
): Build {
  const compiled = new Map<string, unknown>();
  return ((externalSchemas: unknown, options: unknown) => {
    const compile = build(externalSchemas, options);
    const prefix = `${JSON.stringify(externalSchemas)}\u0000${JSON.stringify(options)}\u0000`;
    return (route: { schema: unknown; httpPart?: string }) => {
      const key = prefix + (route.httpPart ?? '') + '\u0000' + JSON.stringify(route.schema);
      let fn = compiled.get(key);
      if (fn === undefined) {
        fn = compile(route);
        compiled.set(key, fn);
      }
      return fn;
    };
  }) as Build;
}

export const sharedCompilers: Compilers = {
  buildValidator: memoised(AjvCompiler() as unknown as Parameters<typeof memoised>[0]) as unknown as BuildValidator,
  buildSerializer: memoised(SerializerSelector() as unknown as Parameters<typeof memoised>[0]) as unknown as BuildSerializer,
};
