import { z } from 'zod';

/**
 * The public models of SPEC §3, exactly as they travel over REST and tRPC.
 * Field names are camelCase and match Handinger's API reference, so the
 * official SDK's types line up with these.
 */

export const visibilitySchema = z.enum(['public', 'private']);
export type Visibility = z.infer<typeof visibilitySchema>;

export const workerTemplateSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  instructions: z.string(),
  organizationId: z.string(),
  outputSchema: z.null(),
  summary: z.string(),
  title: z.string(),
  updatedAt: z.string(),
  url: z.string(),
  userId: z.string(),
  visibility: visibilitySchema,
});
export type WorkerTemplate = z.infer<typeof workerTemplateSchema>;

export const createWorkerInputSchema = z.object({
  title: z.string().max(200).optional(),
  instructions: z.string().max(100_000).optional(),
  summary: z.string().max(2_000).optional(),
  visibility: visibilitySchema.optional(),
});
export type CreateWorkerInput = z.infer<typeof createWorkerInputSchema>;

/** Path parameter of every per-worker route. Its format is checked by the auth layer (malformed → 404). */
export const workerIdInputSchema = z.object({ workerId: z.string() });
export type WorkerIdInput = z.infer<typeof workerIdInputSchema>;

/** Workers per page of `GET /api/workers` (SPEC §3). */
export const WORKERS_PAGE_SIZE = 50;

export const workerTemplateListSchema = z.object({
  workers: z.array(workerTemplateSchema),
  page: z.number().int(),
  pageCount: z.number().int(),
  totalCount: z.number().int(),
});
export type WorkerTemplateList = z.infer<typeof workerTemplateListSchema>;

export const deletedWorkerSchema = z.object({ deleted: z.literal(true) });
export type DeletedWorker = z.infer<typeof deletedWorkerSchema>;

export const webhookStatusSchema = z.enum(['active', 'disabled']);
export const disabledReasonSchema = z.enum(['manual', 'failing']);

export const webhookSchema = z.object({
  token: z.string().nullable(),
  url: z.string().nullable(),
  /** Our addition to Handinger's model (SPEC §3): keys the Standard Webhooks signature. */
  signingSecret: z.string().nullable(),
  /** SPEC §8.1: until then the previous signing secret signs too; `null` when no overlap window is open. */
  previousSigningSecretExpiresAt: z.string().nullable(),
  /** SPEC §8.5 (`active` when no webhook is configured). */
  status: webhookStatusSchema,
  disabledReason: disabledReasonSchema.nullable(),
  disabledAt: z.string().nullable(),
  /** Notifications waiting for an enable. */
  heldNotifications: z.number().int(),
});
export type Webhook = z.infer<typeof webhookSchema>;

/** A worker's webhook when none is configured: every field empty, `active`, nothing held. */
export const NO_WEBHOOK: Webhook = Object.freeze({
  token: null,
  url: null,
  signingSecret: null,
  previousSigningSecretExpiresAt: null,
  status: 'active',
  disabledReason: null,
  disabledAt: null,
  heldNotifications: 0,
});

/** The longest overlap window of a rotation (SPEC §8.1): a week. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;

export const regenerateTokenSchema = z.object({ gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_PERIOD_SECONDS).optional() });
export const sendTestSchema = z.object({ checkSignatureVerification: z.boolean().optional() });
export const recoverSchema = z.object({
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }).optional(),
  dryRun: z.boolean().optional(),
});
export type RecoverInput = z.infer<typeof recoverSchema>;

/** `url` is required; `null` removes the webhook. The URL rules live in `webhookUrlProblem`. */
export const updateWebhookSchema = z.object({ url: z.string().nullable() });
export type UpdateWebhook = z.infer<typeof updateWebhookSchema>;

export const requestStatusSchema = z.enum(['success', 'error']);
export type RequestStatus = z.infer<typeof requestStatusSchema>;

export const webhookExecutionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  durationMs: z.number().int(),
  errorMessage: z.string().nullable(),
  requestStatus: requestStatusSchema,
  responseStatus: z.number().int().nullable(),
  taskId: z.string().nullable(),
  taskTitle: z.string().nullable(),
  url: z.string(),
  workerId: z.string(),
});
export type WebhookExecution = z.infer<typeof webhookExecutionSchema>;

export const EXECUTIONS_PAGE_SIZE = 50;

export const webhookExecutionListSchema = z.object({
  logs: z.array(webhookExecutionSchema),
  page: z.number().int(),
  pageCount: z.number().int(),
  totalCount: z.number().int(),
});
export type WebhookExecutionList = z.infer<typeof webhookExecutionListSchema>;

export const attemptTriggerSchema = z.enum(['delivery', 'retry', 'redeliver', 'recover', 'test', 'enable']);

/** SPEC §8.7: an execution with the request that was sent (its two secret headers redacted). */
export const webhookExecutionDetailSchema = webhookExecutionSchema.extend({
  webhookId: z.string(),
  attempt: z.number().int(),
  trigger: attemptTriggerSchema,
  request: z.object({ headers: z.record(z.string(), z.string()), body: z.string() }),
});
export type WebhookExecutionDetail = z.infer<typeof webhookExecutionDetailSchema>;

export const signatureVerificationSchema = z.enum(['verified', 'not-verified', 'not-checked']);
export type SignatureVerification = z.infer<typeof signatureVerificationSchema>;
export const webhookTestResultSchema = z.object({ execution: webhookExecutionSchema, signatureVerification: signatureVerificationSchema });
export type WebhookTestResult = z.infer<typeof webhookTestResultSchema>;

export const acceptedSchema = z.object({ accepted: z.literal(true) });

export const recoverySchema = z.object({
  id: z.string().nullable(),
  status: z.enum(['dry-run', 'running', 'completed']),
  since: z.string(),
  until: z.string(),
  total: z.number().int(),
  sent: z.number().int(),
  createdAt: z.string().nullable(),
  completedAt: z.string().nullable(),
});
export type Recovery = z.infer<typeof recoverySchema>;

export const pageSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const listExecutionsInputSchema = z.object({
  workerId: z.string(),
  page: pageSchema.optional(),
});
export type ListExecutionsInput = z.infer<typeof listExecutionsInputSchema>;

export const taskStatusSchema = z.enum(['completed', 'error', 'aborted']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

export const taskCompletionInputSchema = z.object({
  taskId: z.string().min(1).max(255),
  workerId: z.string().min(1).max(255),
  title: z.string().max(1_000).nullable().optional(),
  status: taskStatusSchema,
  completedAt: z.iso.datetime({ offset: true }).optional(),
  output: z.unknown().optional(),
});
export type TaskCompletionInput = z.infer<typeof taskCompletionInputSchema>;

export const taskCompletionAcceptedSchema = z.object({
  accepted: z.literal(true),
  duplicate: z.boolean(),
});
export type TaskCompletionAccepted = z.infer<typeof taskCompletionAcceptedSchema>;

export const deliveryEventTypeSchema = z.enum(['task.completed', 'task.error', 'task.aborted']);
export type DeliveryEventType = z.infer<typeof deliveryEventTypeSchema>;

/** The JSON body POSTed to a webhook (SPEC §5). */
export const deliveryPayloadSchema = z.object({
  type: deliveryEventTypeSchema,
  timestamp: z.string(),
  data: z.object({
    workerId: z.string(),
    taskId: z.string(),
    taskTitle: z.string().nullable(),
    status: taskStatusSchema,
    completedAt: z.string(),
    output: z.unknown(),
  }),
});
export type DeliveryPayload = z.infer<typeof deliveryPayloadSchema>;

export const healthSchema = z.object({ status: z.literal('ok') });

/** Every error response: a tRPC error code and a human message naming the field and rule. */
export const apiErrorSchema = z.object({ code: z.string(), message: z.string() });
export type ApiError = z.infer<typeof apiErrorSchema>;
