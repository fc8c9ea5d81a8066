import { isOrganizationId } from '@handinger-webhooks/contracts';
import { DomainError } from '@handinger-webhooks/domain';
import { openApplication } from '@handinger-webhooks/commands';
import type { ApiKeyRow } from '@handinger-webhooks/projections';
import type { StorageConfig } from '../config.js';
import { UsageError } from '../usage.js';

export interface KeysCreateOptions {
  org?: string | undefined;
  user?: string | undefined;
  name?: string | undefined;
  service?: boolean | undefined;
}

/** `keys create`: prints the new key alone on stdout (the only time it is shown). */
export async function keysCreate(storage: StorageConfig, options: KeysCreateOptions, out: NodeJS.WritableStream): Promise<void> {
  if (options.service) {
    if (options.org !== undefined || options.user !== undefined) throw new UsageError('a service key takes no --org or --user');
    if (!options.name) throw new UsageError('a service key needs --name');
  } else {
    if (!options.org || !options.user) throw new UsageError('a user key needs --org ORG and --user USER (or use --service)');
    if (!isOrganizationId(options.org)) throw new UsageError(`--org "${options.org}" is not a valid organization id (letters, digits, _ and -)`);
  }
  const app = await openApplication(storage);
  try {
    const { key } = await app.commands.issueApiKey(
      options.service
        ? { role: 'service', organizationId: null, userId: null, name: options.name ?? null }
        : { role: 'user', organizationId: options.org!, userId: options.user!, name: options.name ?? null },
    );
    out.write(`${key}\n`);
  } finally {
    await app.close();
  }
}

/** One line per key: id, role, org, user, name, created, revoked — never the key (only its hash exists). */
export function formatKeyLine(row: ApiKeyRow): string {
  return [
    row.id,
    row.role,
    row.organization_id ?? '-',
    row.user_id ?? '-',
    row.name ?? '-',
    `created=${row.created_at}`,
    row.revoked_at ? `revoked=${row.revoked_at}` : 'active',
  ].join('\t');
}

export async function keysList(storage: StorageConfig, out: NodeJS.WritableStream): Promise<void> {
  const app = await openApplication(storage);
  try {
    for (const row of await app.readModels.apiKeys()) out.write(`${formatKeyLine(row)}\n`);
  } finally {
    await app.close();
  }
}

/** `keys revoke KEY_ID`: the API looks keys up per request, so it applies to the very next request. */
export async function keysRevoke(storage: StorageConfig, keyId: string | undefined, out: NodeJS.WritableStream): Promise<void> {
  if (!keyId) throw new UsageError('keys revoke needs a KEY_ID (see keys list)');
  const app = await openApplication(storage);
  try {
    const row = await app.commands.revokeApiKey(keyId);
    out.write(`revoked ${row.id} at ${row.revoked_at}\n`);
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'not_found') throw new UsageError(`no key ${keyId} (see keys list)`, 1);
    throw error;
  } finally {
    await app.close();
  }
}
