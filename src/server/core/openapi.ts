import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../../shared/api.js';

/** The error responses a route can give, for its OpenAPI description. */
export function errorResponses(...statuses: number[]): Record<number, ReturnType<typeof Type.Ref>> {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref(ErrorBody)]));
}
