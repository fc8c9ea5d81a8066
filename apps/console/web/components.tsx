import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { messageOf } from './api.js';

/**
 * Everything from outside (titles, URLs, errors) is rendered as Preact text
 * children, which become DOM text nodes: nothing here sets HTML.
 */

export function ErrorNote({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p class="note error" role="alert">
      {messageOf(error)}
    </p>
  );
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** A time as the reader's locale shows it, the exact ISO value on hover and for machines. */
export function Time({ iso }: { iso: string | null }) {
  if (iso === null) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {dateFormat.format(new Date(iso))}
    </time>
  );
}

export function StatusBadge({ status }: { status: 'success' | 'error' }) {
  return <span class={`badge ${status}`}>{status === 'success' ? 'Success' : 'Failed'}</span>;
}

/** Page numbers with first and last page: 1 … p-2 p-1 p p+1 p+2 … last. */
export function Pagination({ page, pageCount, href, label }: { page: number; pageCount: number; href: (page: number) => string; label: string }) {
  if (pageCount <= 1) return null;
  const numbers = new Set([1, pageCount]);
  for (let n = Math.max(1, page - 2); n <= Math.min(pageCount, page + 2); n++) numbers.add(n);
  const sorted = [...numbers].sort((a, b) => a - b);
  const items: ComponentChildren[] = [];
  let previous = 0;
  for (const n of sorted) {
    if (n - previous > 1) items.push(<li class="gap" aria-hidden="true">…</li>);
    items.push(
      <li>
        <a href={href(n)} aria-current={n === page ? 'page' : undefined} aria-label={`Page ${n}${n === 1 ? ' (first)' : n === pageCount ? ' (last)' : ''}`}>
          {n}
        </a>
      </li>,
    );
    previous = n;
  }
  // An unavailable step is plain text, not a link: it is not a stop for the keyboard.
  const step = (label: string, target: number, enabled: boolean, rel?: string) => (
    <li>
      {enabled ? (
        <a href={href(target)} rel={rel}>
          {label}
        </a>
      ) : (
        <span class="disabled" aria-disabled="true">
          {label}
        </span>
      )}
    </li>
  );
  return (
    <nav class="pagination" aria-label={label}>
      <ul>
        {step('First', 1, page > 1)}
        {step('Previous', Math.max(1, Math.min(page - 1, pageCount)), page > 1, 'prev')}
        {items}
        {step('Next', page + 1, page < pageCount, 'next')}
        {step('Last', pageCount, page < pageCount)}
      </ul>
    </nav>
  );
}

/** Copies `text`; says so for a moment. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
    setTimeout(() => setCopied('idle'), 2_000);
  };
  return (
    <button type="button" class="small" onClick={copy} aria-label={`Copy ${label}`}>
      {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}

/** A secret, hidden until revealed, with a copy button that works while hidden. */
export function Secret({ label, value }: { label: string; value: string | null }) {
  const [shown, setShown] = useState(false);
  if (value === null) {
    return (
      <div class="field">
        <span class="label">{label}</span>
        <span class="muted">hidden from this link</span>
      </div>
    );
  }
  return (
    <div class="field">
      <span class="label">{label}</span>
      <code class="secret" data-testid={`secret-${label}`}>{shown ? value : '•'.repeat(24)}</code>
      <span class="actions">
        <button type="button" class="small" onClick={() => setShown(!shown)} aria-pressed={shown} aria-label={`${shown ? 'Hide' : 'Reveal'} ${label}`}>
          {shown ? 'Hide' : 'Reveal'}
        </button>
        <CopyButton text={value} label={label} />
      </span>
    </div>
  );
}
