import type { Application } from '@handinger-webhooks/commands';

export const BOOTSTRAP_ORGANIZATION = 'org_local';
export const BOOTSTRAP_USER = 'user_local';

/**
 * SPEC §2, first start on an empty database: registers HANDINGER_BOOTSTRAP_KEY
 * for org_local/user_local, or issues a random key and prints it once to
 * stderr — outside the JSON log stream on stdout — with a curl example.
 * Does nothing once any key exists.
 */
export async function bootstrapFirstKey(
  app: Application,
  options: { bootstrapKey: string | undefined; baseUrl: string; stderr: NodeJS.WritableStream },
): Promise<'registered' | 'issued' | 'skipped'> {
  const issued = await app.commands.issueFirstApiKey({
    organizationId: BOOTSTRAP_ORGANIZATION,
    userId: BOOTSTRAP_USER,
    name: 'bootstrap',
    ...(options.bootstrapKey ? { key: options.bootstrapKey } : {}),
  });
  if (issued === null) return 'skipped';
  if (options.bootstrapKey) return 'registered';
  options.stderr.write(
    [
      '',
      `Handinger Webhooks: first start on this database. An API key was created for ${BOOTSTRAP_ORGANIZATION}/${BOOTSTRAP_USER};`,
      'it is shown only this once (only its hash is stored):',
      '',
      `  ${issued.key}`,
      '',
      'Try it:',
      `  curl -s -X POST ${options.baseUrl}/api/workers \\`,
      `    -H "Authorization: Bearer ${issued.key}" -H "Content-Type: application/json" \\`,
      `    -d '{"title":"My first worker"}'`,
      '',
      '',
    ].join('\n'),
  );
  return 'issued';
}
