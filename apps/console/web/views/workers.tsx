import { useState } from 'preact/hooks';
import type { Api, WorkerList } from '../api.js';
import { ErrorNote, Pagination, Time } from '../components.js';
import { useAction, useLoad } from '../hooks.js';
import { hrefOf, navigate } from '../router.js';

/** Titles seen in the list, so a worker's page can show its title (the API has no single-worker read). */
export const workerTitles = new Map<string, string>();

/** The caller's workers (`workers.list`), 50 per page, and a form to create one. */
export function Workers({ api, page }: { api: Api; page: number }) {
  const [list, reload] = useLoad<WorkerList>(() => api.workers.list.query({ page }), [api, page]);
  const [title, setTitle] = useState('');
  const create = useAction(async (workerTitle: string) => {
    const worker = await api.workers.create.mutate(workerTitle ? { title: workerTitle } : {});
    workerTitles.set(worker.id, worker.title);
    return worker;
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    const worker = await create.run(title.trim());
    if (worker) {
      setTitle('');
      reload();
      navigate({ name: 'worker', workerId: worker.id, page: 1, executionId: null });
    }
  };

  return (
    <section aria-labelledby="workers-heading">
      <h1 id="workers-heading">Workers</h1>
      <form class="inline-form" onSubmit={submit}>
        <label for="new-worker-title">New worker</label>
        <input id="new-worker-title" value={title} placeholder="Title" maxLength={200} onInput={(event) => setTitle((event.target as HTMLInputElement).value)} />
        <button type="submit" disabled={create.running}>
          Create worker
        </button>
      </form>
      <ErrorNote error={create.error} />
      {list.status === 'loading' && <p class="muted">Loading…</p>}
      {list.status === 'failed' && <ErrorNote error={list.error} />}
      {list.status === 'ready' && (
        <>
          <p class="muted">
            {list.value.totalCount === 0 ? 'No workers yet: create one above.' : `${list.value.totalCount} worker${list.value.totalCount === 1 ? '' : 's'}`}
          </p>
          <ul class="worker-list">
            {list.value.workers.map((worker) => {
              workerTitles.set(worker.id, worker.title);
              return (
                <li key={worker.id}>
                  <a href={hrefOf({ name: 'worker', workerId: worker.id, page: 1, executionId: null })}>{worker.title}</a>
                  <code class="muted id">{worker.id}</code>
                  <span class="muted">
                    created <Time iso={worker.createdAt} />
                  </span>
                </li>
              );
            })}
          </ul>
          <Pagination page={page} pageCount={list.value.pageCount} label="Worker pages" href={(n) => hrefOf({ name: 'workers', page: n })} />
        </>
      )}
    </section>
  );
}
