export { SecretBox, SecretDecryptionError, SECRET_KEY_BYTES } from './secret-box.js';
export { sealWebhookSecrets, openWebhookSecrets, openSigningSecret, type WebhookSecretPair } from './webhook-secrets.js';
export {
  SECRET_KEY_ENV,
  SecretKeyError,
  keyFilePathOf,
  newSecretKeyText,
  parseSecretKey,
  resolveSecretKey,
  type ResolveSecretKeyOptions,
  type SecretKey,
} from './secret-key.js';
