/**
 * Resolves with the first truthy result of `check`, polling every `intervalMs`;
 * rejects with `message` after `timeoutMs`. For state that changes without
 * an event the test can subscribe to (e.g. a row another process commits):
 * it waits exactly as long as needed, never a fixed sleep.
 */
type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const result = await check();
    if (result) return result as Truthy<T>;
    if (Date.now() > deadline) throw new Error(options.message ?? `condition not met within ${options.timeoutMs ?? 30_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
