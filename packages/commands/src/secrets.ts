import { createHash } from 'node:crypto';
import { secureRandomBytes } from '@handinger-webhooks/contracts';
import type { WebhookSecrets } from '@handinger-webhooks/domain';

/**
 * SPEC §5: the token is ≥ 32 random bytes, base64url (sent as X-Handinger-Token);
 * the signing secret is `whsec_` + base64 of 32 random bytes (keys the
 * Standard Webhooks signature, never sent).
 */
export function generateWebhookSecrets(): WebhookSecrets {
  return {
    token: secureRandomBytes(32).toString('base64url'),
    signingSecret: `whsec_${secureRandomBytes(32).toString('base64')}`,
  };
}

const API_KEY_PREFIX = 'hwk_';

/** A new API key: 32 random bytes behind a recognizable prefix (so secret scanners can find leaked ones). */
export const generateApiKey = (): string => `${API_KEY_PREFIX}${secureRandomBytes(32).toString('base64url')}`;

const PORTAL_CREDENTIAL_PREFIX = 'hwp_';

/** A new portal credential (SPEC §9.1): as random as an API key, with a prefix of its own. */
export const generatePortalCredential = (): string => `${PORTAL_CREDENTIAL_PREFIX}${secureRandomBytes(32).toString('base64url')}`;

/** Whether a bearer credential is a portal credential rather than an API key. */
export const isPortalCredential = (credential: string): boolean => credential.startsWith(PORTAL_CREDENTIAL_PREFIX);

/**
 * How keys (and portal credentials) are stored and looked up. Keys carry 256 bits of entropy, so a
 * fast hash is enough (as for GitHub tokens): no salt or KDF is needed to
 * make guessing infeasible, and lookups stay one index probe.
 */
export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
