import { useEffect, useRef } from 'preact/hooks';
import type { Execution, ExecutionList } from '../api.js';
import { ErrorNote, Pagination, StatusBadge, Time } from '../components.js';
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

/** One execution in detail (its fields; with the operations of SPEC §8.7, the request that was sent). */
export function ExecutionDetail({ workerId, page, execution, children }: { workerId: string; page: number; execution: Execution; children?: preact.ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [execution.id]);
  return (
    <section class="panel detail" aria-labelledby="detail-heading">
      <div class="section-head">
        <h2 id="detail-heading" tabIndex={-1} ref={heading}>
          Execution <code>{execution.id}</code>
        </h2>
        <a href={hrefOf({ name: 'worker', workerId, page, executionId: null })} class="button">
          Close
        </a>
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
        <dt>URL</dt>
        <dd class="wrap">
          <code>{execution.url}</code>
        </dd>
        <dt>Task</dt>
        <dd class="wrap">
          {execution.taskTitle ?? '—'} <span class="muted">{execution.taskId ?? ''}</span>
        </dd>
        <dt>Error</dt>
        <dd class="wrap">{execution.errorMessage ?? '—'}</dd>
      </dl>
      {children}
    </section>
  );
}

export function MissingExecution({ workerId, page, error }: { workerId: string; page: number; error?: unknown }) {
  return (
    <section class="panel detail">
      <p>This execution is not on this page.</p>
      <ErrorNote error={error} />
      <a href={hrefOf({ name: 'worker', workerId, page, executionId: null })}>Back to the log</a>
    </section>
  );
}
