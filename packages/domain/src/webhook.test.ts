import { describe, it } from 'vitest';
import type { WebhookConfigured, WebhookRemoved } from '@handinger-webhooks/contracts';
import { deciderSpecification } from './testing/decider-specification.js';
import { webhookDecider } from './webhook.js';

const spec = deciderSpecification(webhookDecider);
const workerId = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const now = '2026-01-01T00:00:00.000Z';
const first = { token: 'tok_1', signingSecret: 'whsec_1' };
const second = { token: 'tok_2', signingSecret: 'whsec_2' };
const configured: WebhookConfigured = {
  type: 'WebhookConfigured',
  data: { workerId, url: 'https://a.example/hook', ...first, configuredAt: now },
};
const removed: WebhookRemoved = { type: 'WebhookRemoved', data: { workerId, reason: 'removed', removedAt: now } };

describe('webhook decider', () => {
  describe('SetWebhook', () => {
    it('mints secrets the first time a URL is set', () => {
      spec
        .given([])
        .when({ type: 'SetWebhook', workerId, url: 'https://a.example/hook', secrets: first, now })
        .then([configured]);
    });

    it('keeps the secrets when the URL changes', () => {
      spec
        .given([configured])
        .when({ type: 'SetWebhook', workerId, url: 'https://b.example/hook', secrets: second, now })
        .then([{ type: 'WebhookUrlChanged', data: { workerId, url: 'https://b.example/hook', changedAt: now } }]);
    });

    it('appends nothing when the URL is unchanged', () => {
      spec
        .given([configured])
        .when({ type: 'SetWebhook', workerId, url: 'https://a.example/hook', secrets: second, now })
        .thenNothingHappens();
    });

    it('removes the webhook when the URL is null', () => {
      spec.given([configured]).when({ type: 'SetWebhook', workerId, url: null, secrets: second, now }).then([removed]);
    });

    it('appends nothing when a null URL meets no webhook', () => {
      spec.given([]).when({ type: 'SetWebhook', workerId, url: null, secrets: second, now }).thenNothingHappens();
    });

    it('mints fresh secrets when set again after a removal', () => {
      spec
        .given([configured, removed])
        .when({ type: 'SetWebhook', workerId, url: 'https://a.example/hook', secrets: second, now })
        .then([{ type: 'WebhookConfigured', data: { workerId, url: 'https://a.example/hook', ...second, configuredAt: now } }]);
    });
  });

  describe('DeleteWebhook', () => {
    it('removes a configured webhook', () => {
      spec.given([configured]).when({ type: 'DeleteWebhook', workerId, reason: 'removed', now }).then([removed]);
    });

    it('records that the worker deletion removed it', () => {
      spec
        .given([configured])
        .when({ type: 'DeleteWebhook', workerId, reason: 'worker_deleted', now })
        .then([{ type: 'WebhookRemoved', data: { workerId, reason: 'worker_deleted', removedAt: now } }]);
    });

    it('appends nothing when there is no webhook', () => {
      spec.given([configured, removed]).when({ type: 'DeleteWebhook', workerId, reason: 'removed', now }).thenNothingHappens();
    });
  });

  describe('RotateToken', () => {
    it('replaces both secrets and keeps the URL', () => {
      spec
        .given([configured])
        .when({ type: 'RotateToken', workerId, secrets: second, now })
        .then([{ type: 'WebhookTokenRotated', data: { workerId, ...second, rotatedAt: now } }]);
    });

    it('is a conflict when no webhook is configured', () => {
      spec.given([]).when({ type: 'RotateToken', workerId, secrets: second, now }).thenThrows('webhook_not_configured');
    });

    it('is a conflict after the webhook was removed', () => {
      spec.given([configured, removed]).when({ type: 'RotateToken', workerId, secrets: second, now }).thenThrows('webhook_not_configured');
    });
  });
});
