import { createHash } from 'node:crypto';

export interface PreparedText {
  /** The statement's name for PostgreSQL's prepared statement cache (per connection). */
  name: string;
  /** The text with `$1, $2…` placeholders. */
  text: string;
}

const converted = new Map<string, PreparedText>();

/**
 * The storage packages write `?` placeholders (SQLite's, and the one form
 * both backends share); PostgreSQL numbers them. Converted once per text,
 * skipping quoted literals and identifiers, and named after the text, so
 * each distinct statement is prepared once per pooled connection.
 */
export function toPostgres(sql: string): PreparedText {
  let prepared = converted.get(sql);
  if (prepared !== undefined) return prepared;
  let text = '';
  let n = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote !== null) {
      if (char === quote) quote = null;
      text += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      text += char;
    } else if (char === '?') {
      text += `$${++n}`;
    } else {
      text += char;
    }
  }
  prepared = { name: `hw_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`, text };
  converted.set(sql, prepared);
  return prepared;
}
