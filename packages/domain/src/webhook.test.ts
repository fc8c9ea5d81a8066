import { describe, expect, it } from 'vitest';
import type { WebhookConfigured, WebhookDisabled, WebhookRemoved } from '@handinger-webhooks/contracts';
import { deciderSpecification } from './testing/decider-specification.js';
import { failingLongEnough, webhookDecider } from './webhook.js';

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
        .when({ type: 'RotateToken', workerId, secrets: second, gracePeriodSeconds: 0, now })
        .then([{ type: 'WebhookTokenRotated', data: { workerId, ...second, rotatedAt: now } }]);
    });

    it('keeps the previous signing secret signing for the overlap window', () => {
      spec
        .given([configured])
        .when({ type: 'RotateToken', workerId, secrets: second, gracePeriodSeconds: 3_600, now })
        .then([
          {
            type: 'WebhookTokenRotated',
            data: { workerId, ...second, rotatedAt: now, previousSigningSecret: first.signingSecret, previousSigningSecretExpiresAt: '2026-01-01T01:00:00.000Z' },
          },
        ]);
    });

    it('keeps one previous secret only: a rotation inside a window replaces the older one with the current one', () => {
      const third = { token: 'tok_3', signingSecret: 'whsec_3' };
      spec
        .given([configured, { type: 'WebhookTokenRotated', data: { workerId, ...second, rotatedAt: now, previousSigningSecret: first.signingSecret, previousSigningSecretExpiresAt: '2026-01-02T00:00:00.000Z' } }])
        .when({ type: 'RotateToken', workerId, secrets: third, gracePeriodSeconds: 60, now })
        .then([
          { type: 'WebhookTokenRotated', data: { workerId, ...third, rotatedAt: now, previousSigningSecret: second.signingSecret, previousSigningSecretExpiresAt: '2026-01-01T00:01:00.000Z' } },
        ]);
    });

    it('is a conflict when no webhook is configured', () => {
      spec.given([]).when({ type: 'RotateToken', workerId, secrets: second, gracePeriodSeconds: 0, now }).thenThrows('webhook_not_configured');
    });

    it('is a conflict after the webhook was removed', () => {
      spec.given([configured, removed]).when({ type: 'RotateToken', workerId, secrets: second, gracePeriodSeconds: 0, now }).thenThrows('webhook_not_configured');
    });
  });

  describe('DisableWebhook and EnableWebhook', () => {
    const later = '2026-01-02T00:00:00.000Z';
    const disabled: WebhookDisabled = { type: 'WebhookDisabled', data: { workerId, reason: 'manual', disabledAt: now } };

    it('disables an active webhook, by hand or because it keeps failing', () => {
      spec.given([configured]).when({ type: 'DisableWebhook', workerId, reason: 'manual', now }).then([disabled]);
      spec
        .given([configured])
        .when({ type: 'DisableWebhook', workerId, reason: 'failing', now })
        .then([{ type: 'WebhookDisabled', data: { workerId, reason: 'failing', disabledAt: now } }]);
    });

    it('keeps the first disable: a second one appends nothing', () => {
      spec.given([configured, disabled]).when({ type: 'DisableWebhook', workerId, reason: 'failing', now: later }).thenNothingHappens();
    });

    it('enables a disabled webhook once', () => {
      spec.given([configured, disabled]).when({ type: 'EnableWebhook', workerId, now: later }).then([{ type: 'WebhookEnabled', data: { workerId, enabledAt: later } }]);
      spec.given([configured, disabled, { type: 'WebhookEnabled', data: { workerId, enabledAt: later } }]).when({ type: 'EnableWebhook', workerId, now: later }).thenNothingHappens();
      spec.given([configured]).when({ type: 'EnableWebhook', workerId, now: later }).thenNothingHappens();
    });

    it('a URL change keeps the webhook disabled; a new webhook after a removal starts active', () => {
      const moved = { type: 'WebhookUrlChanged' as const, data: { workerId, url: 'https://b.example/hook', changedAt: later } };
      spec.given([configured, disabled, moved]).when({ type: 'DisableWebhook', workerId, reason: 'manual', now: later }).thenNothingHappens();
      spec.given([configured, disabled, removed, configured]).when({ type: 'EnableWebhook', workerId, now: later }).thenNothingHappens();
    });

    it('is a conflict when no webhook is configured', () => {
      spec.given([]).when({ type: 'DisableWebhook', workerId, reason: 'manual', now }).thenThrows('webhook_not_configured');
      spec.given([configured, removed]).when({ type: 'EnableWebhook', workerId, now }).thenThrows('webhook_not_configured');
    });
  });
});

describe('failingLongEnough (SPEC §8.5)', () => {
  const span = { status: 'active' as const, failingSince: '2026-01-01T00:00:00.000Z', exhaustedInSpan: true };
  const day = 86_400_000;
  it('disables once every attempt failed for the whole period and a notification ran out of retries', () => {
    expect(failingLongEnough(span, '2026-01-06T00:00:00.000Z', 5 * day)).toBe(true);
    expect(failingLongEnough(span, '2026-01-05T23:59:59.999Z', 5 * day)).toBe(false);
  });
  it('waits for a notification to exhaust its retries, however long the failures last', () => {
    expect(failingLongEnough({ ...span, exhaustedInSpan: false }, '2026-02-01T00:00:00.000Z', 5 * day)).toBe(false);
  });
  it('does nothing after a success (no span), when already disabled, or when turned off with 0', () => {
    expect(failingLongEnough({ ...span, failingSince: null }, '2026-02-01T00:00:00.000Z', 5 * day)).toBe(false);
    expect(failingLongEnough({ ...span, status: 'disabled' }, '2026-02-01T00:00:00.000Z', 5 * day)).toBe(false);
    expect(failingLongEnough(span, '2026-02-01T00:00:00.000Z', 0)).toBe(false);
  });
});
