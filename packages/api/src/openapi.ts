import {
  apiErrorSchema,
  healthSchema,
  taskCompletionAcceptedSchema,
  webhookExecutionListSchema,
  webhookExecutionSchema,
  webhookSchema,
  workerTemplateSchema,
} from '@handinger-webhooks/contracts';
import type { z } from 'zod';
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import type { AppRouter } from './router.js';
import { restOperations } from './rest-operations.js';

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const jsonResponse = (description: string, schema: z.ZodType) => ({
  description,
  content: { 'application/json': { schema } },
});

/**
 * The OpenAPI 3.1 document of the REST surface, generated from the same
 * procedures that serve it (plus `/healthz` and the document itself, which
 * are plain HTTP routes). `servers` is left out so that it resolves against
 * wherever the document was fetched from.
 */
export function openApiDocumentFor(appRouter: AppRouter, version: string): OpenAPIObject {
  const document = generateOpenApiDocument(appRouter, {
    title: 'Handinger Webhooks',
    description:
      'Outbound webhooks for Handinger workers: configure one webhook per worker, record task completions, and read the delivery log. Errors are `{ code, message }`.',
    version,
    baseUrl: '/',
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: a user key, or the service key for task completions' } },
    defs: {
      WorkerTemplate: workerTemplateSchema,
      Webhook: webhookSchema,
      WebhookExecution: webhookExecutionSchema,
      WebhookExecutionList: webhookExecutionListSchema,
      TaskCompletionAccepted: taskCompletionAcceptedSchema,
      Error: apiErrorSchema,
    },
    paths: {
      '/healthz': {
        get: { operationId: 'health', summary: 'Liveness check (no authentication)', tags: ['Service'], security: [], responses: { 200: jsonResponse('The service is up', healthSchema) } },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          summary: 'This document',
          tags: ['Service'],
          security: [],
          responses: { 200: { description: 'The OpenAPI 3 document of the REST surface', content: { 'application/json': {} } } },
        },
      },
    },
  });
  delete (document as { servers?: unknown }).servers;
  // trpc-to-openapi documents errors with a shared, first-come description and an `issues` field
  // this API never sends; each operation gets its own descriptions and the one `Error` shape instead.
  for (const operation of restOperations(appRouter)) {
    const documented = (document.paths?.[operation.path] as Record<string, { responses?: Record<string, unknown> }> | undefined)?.[operation.method.toLowerCase()];
    if (!documented?.responses) continue;
    // A body whose every field is optional may be left out entirely (regenerate-token, test, SPEC §8).
    const body = (documented as { requestBody?: { required?: boolean; content?: Record<string, { schema?: { required?: string[] } }> } }).requestBody;
    if (body && !(body.content?.['application/json']?.schema?.required?.length)) body.required = false;
    documented.responses = {
      // An answer-dependent status (a recovery's dry run) documents 200 beside the usual one.
      ...(operation.statusOf ? { 200: documented.responses['200'] } : {}),
      [String(operation.successStatus)]: documented.responses['200'],
      ...Object.fromEntries(Object.entries(operation.errorResponses).map(([status, description]) => [status, errorResponse(description)])),
      500: errorResponse('Unexpected server error'),
    };
  }
  const schemas = document.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  return document;
}
