import type { Actor } from '@handinger-webhooks/commands';
import type { Caller } from '../context.js';

/** The key a command is issued with, recorded in its events' metadata for audit. */
export const actorOf = (caller: Caller): Actor => ({ keyId: caller.keyId });
