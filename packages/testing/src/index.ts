export { createTempDir } from './temp-dir.js';
