export { startDelivery, type DeliveryService, type DeliveryStats } from './delivery-service.js';
export type { DeliveryOptions } from './options.js';
export { setSenderThreadEntry, type SenderThreadEntry } from './thread-transport.js';
export { WebhookTester } from './webhook-tester.js';
