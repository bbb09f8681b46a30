import { noQuery } from '../lib/http/params';
import { openapiDocument } from '../lib/http/openapi/document';
import { route } from '../lib/http/route';

/** The API's OpenAPI 3.1 document, generated from the routes' zod schemas; public (the reference page at /docs reads it). */
export const GET = route(async (request) => {
  noQuery(request);
  return Response.json(openapiDocument(), { headers: { 'cache-control': 'public, max-age=300' } });
});
