export * from './decider.js';
export * from './worker.js';
export * from './webhook.js';
export * from './api-key.js';
export * from './task.js';
export * from './delivery.js';
export * from './retry-schedule.js';
export * from './portal-session.js';
