import type { Api, Execution, ExecutionList, Webhook } from '../api.js';
import { ErrorNote } from '../components.js';
import { POLL_INTERVAL_MS, useLoad } from '../hooks.js';
import { hrefOf } from '../router.js';
import { ExecutionDetailPanel, ExecutionLog } from './log.js';
import { RecoverPanel, RedeliverButton, WebhookOperations } from './operations.js';
import { PortalLinks } from './portal-links.js';
import { WebhookPanel, type Access } from './webhook.js';
import { workerTitles } from './workers.js';

/**
 * One worker: its webhook and its execution log. Both are asked for again
 * every second (one batched request) while the tab is visible, so new
 * executions, a rotation or a change of status show up without a reload.
 */
export function WorkerPage({ api, workerId, page, executionId, portal }: { api: Api; workerId: string; page: number; executionId: string | null; portal: boolean }) {
  const [webhook, reloadWebhook] = useLoad<Webhook>(() => api.workers.webhooks.retrieve.query({ workerId }), [api, workerId], POLL_INTERVAL_MS);
  const [log, , logError] = useLoad<ExecutionList>(() => api.workers.webhooks.listExecutions.query({ workerId, page }), [api, workerId, page], POLL_INTERVAL_MS);

  if (webhook.status === 'failed') return <ErrorNote error={webhook.error} />;
  if (webhook.status === 'loading') return <p class="muted">Loading…</p>;
  // A portal link reads the webhook without its secrets when it is read-only (SPEC §9.1).
  const readOnlyPortal = portal && webhook.value.url !== null && webhook.value.token === null;
  const access: Access = { creator: !portal, operate: !readOnlyPortal };
  const title = workerTitles.get(workerId);
  const configured = webhook.value.url !== null;
  const rowActions = access.operate && configured ? (execution: Execution) => <RedeliverButton key={execution.id} api={api} workerId={workerId} execution={execution} /> : undefined;

  return (
    <>
      {!portal && (
        <p class="crumbs">
          <a href={hrefOf({ name: 'workers', page: 1 })}>Workers</a> /
        </p>
      )}
      <h1>
        {title ?? 'Worker'} <code class="muted id">{workerId}</code>
      </h1>
      {portal && <p class="note">{readOnlyPortal ? 'Read-only portal view of this webhook.' : 'Portal view of this webhook.'}</p>}
      <div class="columns">
        <WebhookPanel api={api} workerId={workerId} webhook={webhook.value} access={access} onChanged={reloadWebhook}>
          {access.operate && configured && <WebhookOperations api={api} workerId={workerId} webhook={webhook.value} onChanged={reloadWebhook} />}
        </WebhookPanel>
        <div>
          {access.operate && configured && <RecoverPanel api={api} workerId={workerId} />}
          {access.creator && configured && <PortalLinks api={api} workerId={workerId} />}
        </div>
      </div>
      {executionId && <ExecutionDetailPanel api={api} workerId={workerId} page={page} executionId={executionId} actions={rowActions} />}
      {log.status === 'loading' && <p class="muted">Loading the log…</p>}
      {log.status === 'failed' && <ErrorNote error={log.error} />}
      {log.status === 'ready' && <ExecutionLog workerId={workerId} page={page} list={log.value} pollError={logError} rowActions={rowActions} />}
    </>
  );
}
