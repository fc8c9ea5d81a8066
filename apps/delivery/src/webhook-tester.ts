import { randomBytes } from 'node:crypto';
import { DomainError } from '@handinger-webhooks/domain';
import { createIdGenerator, type SignatureVerification, type WebhookExecution } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import { processOwnerId } from '@handinger-webhooks/event-store';
import { toExecution, type WebhookRow } from '@handinger-webhooks/projections';
import { attemptResult } from './attempt-result.js';
import { testNotificationOf } from './notifications.js';
import { resolveOptions, type DeliveryOptions } from './options.js';
import { signedHeaders } from './prepare.js';
import { InThreadTransport, type Transport, type WireResult } from './transport.js';

/** How long a test waits for a slot of its origin's cap before it gives up. */
const SLOT_WAIT_MS = 10_000;
const SLOT_RETRY_MS = 100;

const isSuccess = (result: WireResult): boolean => attemptResult(result.outcome) === 'success';
const isClientError = (result: WireResult): boolean =>
  result.outcome.transportError === null && result.outcome.responseStatus !== null && result.outcome.responseStatus >= 400 && result.outcome.responseStatus <= 499;

/**
 * The test send of SPEC §8.2, synchronous: one notification of type
 * `webhook.test` with a fresh webhook-id, through the same prepare stage,
 * SSRF guard and caps as every delivery (it holds a claim slot of its
 * origin for the whole exchange, so every process counts it), recorded as
 * an execution that is never retried. With the signature check, a 2xx to
 * the genuine request is followed by a probe: the same body under a fresh
 * webhook-id and a signature no secret produced. A 4xx to it means the
 * receiver verifies (`verified`), a 2xx that it would accept forgeries
 * (`not-verified`); anything else tells nothing (`not-checked`). The probe
 * is not recorded: the log holds what the service sent as itself.
 */
export class WebhookTester {
  private readonly options;
  private readonly transport: Transport;
  private readonly ids = createIdGenerator();
  /** Its own owner: its slots count as another process's for this process's delivery loop. */
  private readonly owner = `${processOwnerId()}:test`;
  private readonly userAgent: string;

  constructor(
    private readonly app: Application,
    options: DeliveryOptions,
  ) {
    this.options = resolveOptions(options);
    this.userAgent = `Handinger-Webhooks/${this.options.version}`;
    this.transport = new InThreadTransport({ timeoutMs: this.options.timeoutMs, perOriginConcurrency: this.options.perOriginConcurrency, allowPrivateNetwork: this.options.allowPrivateNetwork });
  }

  async test(workerId: string, options: { checkSignatureVerification: boolean }): Promise<{ execution: WebhookExecution; signatureVerification: SignatureVerification }> {
    const webhook = await this.app.readModels.webhook(workerId);
    if (webhook === undefined) throw new DomainError('conflict', 'webhook_not_configured', 'no webhook is configured for this worker');
    const deliveryId = this.ids.deliveryId();
    const claimToken = await this.reserveSlot(deliveryId, webhook);
    const startedAtMs = Date.now();
    const startedAt = new Date(startedAtMs).toISOString();
    const notification = testNotificationOf(workerId, startedAt);
    const signing = {
      workerId,
      token: webhook.token,
      signingSecret: webhook.signing_secret,
      previousSigningSecret: webhook.previous_signing_secret,
      previousSigningSecretExpiresAt: webhook.previous_secret_expires_at === null ? null : Date.parse(webhook.previous_secret_expires_at),
    };
    let genuine: WireResult;
    let signatureVerification: SignatureVerification = 'not-checked';
    try {
      genuine = await this.transport.send({ url: webhook.url, headers: signedHeaders(signing, deliveryId, notification.body, this.app.secretBox, this.userAgent, startedAtMs), body: notification.body });
      this.options.observer.attemptEnded({ result: attemptResult(genuine.outcome), durationMs: genuine.durationMs, attempt: 1, type: 'webhook.test' });
      if (options.checkSignatureVerification && isSuccess(genuine)) signatureVerification = await this.probe(signing, webhook.url, notification.body);
    } catch (error) {
      await this.app.database.transaction((tx) => this.app.claims.release(tx, [claimToken])).catch(() => undefined);
      throw error;
    }
    const row = await this.app.commands.recordTestAttempt(workerId, deliveryId, {
      executionId: this.ids.executionId(),
      startedAt,
      durationMs: genuine.durationMs,
      url: webhook.url,
      responseStatus: genuine.outcome.responseStatus,
      transportError: genuine.outcome.transportError,
      retryAfterMs: null,
      userAgent: this.userAgent,
    }, claimToken);
    return { execution: toExecution(row), signatureVerification };
  }

  /** The forged request: valid token and headers, a signature of random bytes. */
  private async probe(signing: Parameters<typeof signedHeaders>[0], url: string, body: Buffer): Promise<SignatureVerification> {
    const headers = signedHeaders(signing, this.ids.deliveryId(), body, this.app.secretBox, this.userAgent, Date.now());
    const at = headers.indexOf('webhook-signature');
    headers[at + 1] = `v1,${randomBytes(32).toString('base64')}`;
    const answer = await this.transport.send({ url, headers, body });
    if (isClientError(answer)) return 'verified';
    if (isSuccess(answer)) return 'not-verified';
    return 'not-checked';
  }

  /** A slot of the caps for the test, waiting a little while the origin is full. */
  private async reserveSlot(deliveryId: string, webhook: WebhookRow): Promise<string> {
    const deadline = Date.now() + SLOT_WAIT_MS;
    for (;;) {
      const token = await this.app.database.transaction((tx) =>
        this.app.claims.reserveSlot(tx, {
          deliveryId,
          origin: webhook.origin,
          owner: this.owner,
          ttlMs: 2 * this.options.timeoutMs + this.options.leaseMarginMs,
          globalCap: this.options.globalConcurrency,
          perOriginCap: this.options.perOriginConcurrency,
        }),
      );
      if (token !== null) return token;
      if (Date.now() >= deadline) throw new DomainError('unavailable', 'origin_at_cap', "the receiver's origin is at its concurrency cap: try again shortly");
      await new Promise((resolve) => setTimeout(resolve, SLOT_RETRY_MS));
    }
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
