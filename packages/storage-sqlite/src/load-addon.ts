/**
 * Loads a native addon from a file, as `require` would, and returns its
 * exports: the single executable's extracted better-sqlite3, on its main
 * thread and on the checkpointer's (a module of its own, so that thread
 * loads nothing else).
 */
export function loadAddon(path: string): object {
  const module = { exports: {} as object };
  process.dlopen(module, path);
  return module.exports;
}
