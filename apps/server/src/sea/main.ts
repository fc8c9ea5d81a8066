/**
 * Entry point of the single executable (`npm run package`). Node's SEA loader
 * can `require` built-in modules only, so the better-sqlite3 addon travels as
 * an asset: it is extracted (verified) to the cache, loaded with
 * `process.dlopen`, and handed to every database opened afterwards. The
 * delivery sender's thread and the WAL checkpointer's thread travel as
 * assets too (their bundled sources; the checkpointer loads the extracted
 * addon file itself), and so does the web console (its files in one JSON
 * document).
 */
import { getAsset } from 'node:sea';
import { setSenderThreadEntry } from '@handinger-webhooks/delivery';
import { loadAddon, setCheckpointThreadEntry, setDefaultNativeBinding } from '@handinger-webhooks/storage-sqlite';
import { main } from '../cli.js';
import { setEmbeddedConsoleAssets } from '../console-assets.js';
import { VERSION } from '../version.js';
import { materializeAddon } from './native-addon.js';

try {
  const addonPath = materializeAddon(new Uint8Array(getAsset('better_sqlite3.node')), VERSION);
  setDefaultNativeBinding(loadAddon(addonPath));
  setCheckpointThreadEntry({ source: getAsset('checkpoint-thread.cjs', 'utf8'), addonPath });
} catch (error) {
  process.stderr.write(`handinger-webhooks: cannot load the embedded SQLite addon: ${(error as Error).message}\n`);
  process.exit(1);
}
setSenderThreadEntry({ source: getAsset('sender-thread.cjs', 'utf8') });
// The web console (SPEC §9) travels as one asset: its files in one JSON document.
setEmbeddedConsoleAssets(getAsset('console-assets.json', 'utf8'));
// In a single executable, argv is [executable, executable, ...arguments].
main(process.argv.slice(2));
