import { useEffect, useState } from 'preact/hooks';

/**
 * Routes live in the fragment (`#/workers/{id}?page=3`): the server serves
 * one page, nothing of the route reaches it, and back/forward work.
 */
export type Route =
  | { name: 'workers'; page: number }
  | { name: 'worker'; workerId: string; page: number; executionId: string | null };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const pageParam = Number(params.get('page') ?? '1');
  const page = Number.isInteger(pageParam) && pageParam >= 1 ? pageParam : 1;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'workers' && parts[1]) return { name: 'worker', workerId: parts[1], page, executionId: parts[2] === 'executions' ? (parts[3] ?? null) : null };
  return { name: 'workers', page };
}

export function hrefOf(route: Route): string {
  if (route.name === 'workers') return route.page > 1 ? `#/?page=${route.page}` : '#/';
  const base = `#/workers/${encodeURIComponent(route.workerId)}`;
  const execution = route.executionId ? `/executions/${encodeURIComponent(route.executionId)}` : '';
  return `${base}${execution}${route.page > 1 ? `?page=${route.page}` : ''}`;
}

export const navigate = (route: Route): void => {
  location.hash = hrefOf(route).slice(1);
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
