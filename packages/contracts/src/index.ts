export * from './ids.js';
export * from './models.js';
export * from './events.js';
export * from './address-policy.js';
export * from './webhook-url.js';
export * from './logger.js';
export { secureRandomBytes } from './random-pool.js';
export * from './notification.js';
export * from './portal.js';
