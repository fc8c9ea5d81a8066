/** The bench's reusable pieces (the entry point is `cli.ts`). */
export { quantile, median, summarize, latencySummary, type Summary, type LatencySummary } from './stats.js';
export { makeRow, describeTarget, type Row, type ScenarioResult, type Target } from './result.js';
export { seedDataset, type Dataset } from './dataset.js';
