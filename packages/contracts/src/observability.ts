/**
 * The vocabulary of SPEC §10 shared by the delivery app (which observes
 * attempts) and the metrics package (which counts them), so neither
 * depends on the other.
 */

/** What one recorded attempt was, as `handinger_delivery_attempts_total{result}` labels it (not the decider's `AttemptResult`): exactly one per attempt. */
export const ATTEMPT_RESULTS = ['success', 'http_error', 'timeout', 'connection_error', 'blocked', 'redirect'] as const;
export type AttemptResultLabel = (typeof ATTEMPT_RESULTS)[number];

/** The `type` of a notification (SPEC §5, and §8.2's test event), as `handinger_notifications_total{type}` counts it. */
export const NOTIFICATION_TYPES = ['task.completed', 'task.error', 'task.aborted', 'webhook.test'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** One attempt whose outcome is known (its response or failure came back), before it is recorded. */
export interface ObservedAttempt {
  result: AttemptResultLabel;
  /** Wall-clock time of the attempt, as its execution records it. */
  durationMs: number;
  /** 1-based attempt number within its notification: the first one counts the notification. */
  attempt: number;
  type: NotificationType;
}

/**
 * Told about delivery work as it happens. Called on the hot path of every
 * attempt: implementations must be cheap and must not throw.
 */
export interface DeliveryObserver {
  attemptEnded(attempt: ObservedAttempt): void;
}

export const NO_DELIVERY_OBSERVER: DeliveryObserver = { attemptEnded: () => {} };
