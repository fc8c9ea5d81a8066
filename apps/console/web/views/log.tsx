import { Fragment } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Api, Execution, ExecutionDetail, ExecutionList } from '../api.js';
import { ErrorNote, Pagination, StatusBadge, Time } from '../components.js';
import { useLoad } from '../hooks.js';
import { hrefOf } from '../router.js';

const duration = (ms: number): string => (ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`);

/**
 * The execution log: 50 per page, newest first, with page numbers (any page
 * is two index probes on the server, so a deep page opens as fast as the
 * first). A row's time opens its detail.
 */
export function ExecutionLog({
  workerId,
  page,
  list,
  pollError,
  rowActions,
}: {
  workerId: string;
  page: number;
  list: ExecutionList;
  pollError: unknown;
  rowActions?: (execution: Execution) => preact.ComponentChildren;
}) {
  const href = (n: number) => hrefOf({ name: 'worker', workerId, page: n, executionId: null });
  return (
    <section aria-labelledby="log-heading" class="log">
      <div class="section-head">
        <h2 id="log-heading">Executions</h2>
        <span class="muted" role="status" aria-live="polite" data-testid="log-count">
          {list.totalCount} in all · page {page} of {Math.max(list.pageCount, 1)}
        </span>
      </div>
      <ErrorNote error={pollError} />
      {list.logs.length === 0 ? (
        <p class="muted">{list.totalCount === 0 ? 'No delivery attempts yet. They appear here as they happen.' : 'No executions on this page.'}</p>
      ) : (
        <table class="executions">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Status</th>
              <th scope="col">HTTP</th>
              <th scope="col">Duration</th>
              <th scope="col">Task</th>
              <th scope="col">Error</th>
              {rowActions && <th scope="col"><span class="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {list.logs.map((execution) => (
              <tr key={execution.id} data-execution-id={execution.id}>
                <td data-label="Time">
                  <a href={hrefOf({ name: 'worker', workerId, page, executionId: execution.id })} aria-label={`Details of the attempt at ${execution.createdAt}`}>
                    <Time iso={execution.createdAt} />
                  </a>
                </td>
                <td data-label="Status">
                  <StatusBadge status={execution.requestStatus} />
                </td>
                <td data-label="HTTP">{execution.responseStatus ?? <span class="muted">—</span>}</td>
                <td data-label="Duration">{duration(execution.durationMs)}</td>
                <td data-label="Task" class="wrap">
                  {execution.taskTitle ?? <span class="muted">{execution.taskId ?? '—'}</span>}
                </td>
                <td data-label="Error" class="wrap">
                  {execution.errorMessage ?? ''}
                </td>
                {rowActions && <td data-label="">{rowActions(execution)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pagination page={page} pageCount={list.pageCount} label="Execution pages" href={href} />
    </section>
  );
}

/** One execution in detail (SPEC §8.7): its fields, what triggered it, and the request that was sent (secrets redacted by the server). */
export function ExecutionDetailPanel({ api, workerId, page, executionId, actions }: { api: Api; workerId: string; page: number; executionId: string; actions?: (execution: Execution) => preact.ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const [detail] = useLoad<ExecutionDetail>(() => api.workers.webhooks.getExecution.query({ workerId, executionId }), [api, workerId, executionId]);
  useEffect(() => heading.current?.focus(), [executionId, detail.status]);
  const close = hrefOf({ name: 'worker', workerId, page, executionId: null });
  if (detail.status === 'loading') return <p class="muted">Loading the execution…</p>;
  if (detail.status === 'failed') return <MissingExecution workerId={workerId} page={page} error={detail.error} />;
  const execution = detail.value;
  return (
    <section class="panel detail" aria-labelledby="detail-heading">
      <div class="section-head">
        <h2 id="detail-heading" tabIndex={-1} ref={heading}>
          Execution <code class="wrap">{execution.id}</code>
        </h2>
        <span class="actions">
          {actions?.(execution)}
          <a href={close} class="button secondary-link">
            Close
          </a>
        </span>
      </div>
      <dl class="facts">
        <dt>Time</dt>
        <dd>
          <Time iso={execution.createdAt} /> <span class="muted">({execution.createdAt})</span>
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={execution.requestStatus} />
        </dd>
        <dt>HTTP status</dt>
        <dd>{execution.responseStatus ?? '—'}</dd>
        <dt>Duration</dt>
        <dd>{execution.durationMs} ms</dd>
        <dt>Error</dt>
        <dd class="wrap">{execution.errorMessage ?? '—'}</dd>
        <dt>Trigger</dt>
        <dd>
          {TRIGGERS[execution.trigger] ?? execution.trigger}, attempt {execution.attempt}
        </dd>
        <dt>URL</dt>
        <dd class="wrap">
          <code>{execution.url}</code>
        </dd>
        <dt>Task</dt>
        <dd class="wrap">
          {execution.taskTitle ?? '—'} <span class="muted">{execution.taskId ?? ''}</span>
        </dd>
        <dt>webhook-id</dt>
        <dd class="wrap">
          <code>{execution.webhookId}</code>
        </dd>
      </dl>
      <h3>Request headers</h3>
      <dl class="facts headers">
        {Object.entries(execution.request.headers).map(([name, value]) => (
          <Fragment key={name}>
            <dt>
              <code>{name}</code>
            </dt>
            <dd class="wrap">
              <code>{value}</code>
            </dd>
          </Fragment>
        ))}
      </dl>
      <h3>Request body</h3>
      <pre class="body" data-testid="request-body">{prettyJson(execution.request.body)}</pre>
    </section>
  );
}

const TRIGGERS: Record<string, string> = {
  delivery: 'First delivery',
  retry: 'Retry',
  redeliver: 'Redelivery',
  recover: 'Recovery',
  test: 'Test',
  enable: 'Sent on enable',
};

function prettyJson(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function MissingExecution({ workerId, page, error }: { workerId: string; page: number; error?: unknown }) {
  return (
    <section class="panel detail">
      <p>This execution could not be shown.</p>
      <ErrorNote error={error} />
      <a href={hrefOf({ name: 'worker', workerId, page, executionId: null })}>Back to the log</a>
    </section>
  );
}
