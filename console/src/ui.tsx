import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, query, type Page } from './api';
import { go, href, type Location } from './router';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * GET `path` (nothing while it is null), again whenever it changes and every `pollMs` while the tab is
 * visible. A slower answer to an older path never replaces a newer one.
 */
export function useResource<T>(path: string | null, pollMs?: number): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; path: string | null }>({ loading: true, path });
  const latest = useRef(path);
  latest.current = path;
  const load = useCallback(async () => {
    if (path === null) return;
    try {
      const data = await api<T>(path);
      if (latest.current === path) setState({ data, loading: false, path });
    } catch (error) {
      if (latest.current === path) setState((old) => ({ ...old, error: error as ApiError, loading: false, path }));
    }
  }, [path]);
  useEffect(() => {
    setState((old) => (old.path === path ? old : { loading: true, path }));
    void load();
    if (!pollMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, pollMs);
    return () => clearInterval(timer);
  }, [load, pollMs]);
  const current = state.path === path;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: !current || state.loading, reload: load };
}

/**
 * A button that runs an API action: disabled while it runs, its error shown beside it, `done` called
 * after it succeeded (to reload what it changed).
 */
export function Action(props: {
  label: string;
  run: () => Promise<unknown>;
  done?: () => void;
  kind?: 'primary' | 'danger';
  disabled?: boolean;
  title?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const click = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.run();
      props.done?.();
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={props.kind ?? ''} disabled={busy || props.disabled} title={props.title} onClick={click}>
        {busy ? `${props.label}…` : props.label}
      </button>
      {error && <span class="error-inline" role="alert">{error}</span>}
    </span>
  );
}

export function Badge({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  return <span class={`badge badge-${value.replace(/[^a-z_]/gi, '')}`}>{value}</span>;
}

export function Progress({ value, label }: { value: number | null; label?: string }) {
  const percent = value === null ? null : Math.max(0, Math.min(100, Math.round(value * 100)));
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent ?? undefined} aria-label={label}>
      <div class={percent === null ? 'bar indeterminate' : 'bar'} style={percent === null ? undefined : { width: `${percent}%` }} />
      <span class="progress-text">{label ?? (percent === null ? 'running' : `${percent}%`)}</span>
    </div>
  );
}

export function ErrorLine({ error }: { error: ApiError | string | undefined | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

export function Json({ value }: { value: unknown }) {
  if (value === undefined || value === null) return <span class="muted">—</span>;
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function Section(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="panel">
      <header class="panel-head">
        <h2>{props.title}</h2>
        {props.actions && <div class="panel-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function Loading({ resource }: { resource: Resource<unknown> }) {
  if (resource.error && !resource.data) return <ErrorLine error={resource.error} />;
  if (resource.loading && !resource.data) return <p class="muted">Loading…</p>;
  return null;
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago" (the full time in the title). */
export function Ago({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const time = new Date(at);
  const seconds = (Date.now() - time.getTime()) / 1000;
  return <time dateTime={at} title={time.toLocaleString()}>{seconds < 1 ? 'just now' : `${duration(seconds)} ago`}</time>;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty muted">{children}</p>;
}

/**
 * One page of a list endpoint (`{ data, nextCursor }`), polled, with Older/Newer buttons that walk its
 * cursors. Back to the newest page whenever the filter changes.
 */
export function usePaged<T>(path: string, params: Record<string, string | undefined>, pollMs?: number) {
  const [cursors, setCursors] = useState<string[]>([]);
  const filterKey = JSON.stringify([path, params]);
  const [shownFor, setShownFor] = useState(filterKey);
  if (shownFor !== filterKey) {
    setShownFor(filterKey);
    setCursors([]);
  }
  const cursor = shownFor === filterKey ? cursors[cursors.length - 1] : undefined;
  const resource = useResource<Page<T>>(`${path}${query({ ...params, cursor })}`, pollMs);
  const next = resource.data?.nextCursor ?? null;
  const pager = cursors.length === 0 && !next ? null : (
    <div class="pager">
      <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
        ← Newer
      </button>
      <span class="muted small">page {cursors.length + 1}</span>
      <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
        Older →
      </button>
    </div>
  );
  return { resource, rows: resource.data?.data ?? [], pager };
}

export interface FilterField {
  name: string;
  label: string;
  /** A choice (applied at once) when given; a text field (applied by the Filter button) otherwise. */
  options?: readonly string[];
  /** The choice that sets nothing ("any"), or the text field's placeholder. */
  hint: string;
}

/** The values of a view's filters, read from its location. */
export function filterOf(where: Location, fields: readonly FilterField[]): Record<string, string | undefined> {
  return Object.fromEntries(fields.map((field) => [field.name, where.params.get(field.name) ?? undefined]));
}

/**
 * A view's filters, kept in its location (`#/jobs?status=dead`) so a filtered view can be linked to and
 * survives a reload.
 */
export function Filters({ view, filter, fields }: { view: string; filter: Record<string, string | undefined>; fields: readonly FilterField[] }) {
  const texts = fields.filter((field) => !field.options);
  return (
    <form
      key={JSON.stringify(filter)}
      class="filters"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const typed = Object.fromEntries(texts.map((field) => [field.name, String(form.get(field.name) ?? '').trim()]));
        go(href(view, { ...filter, ...typed }));
      }}
    >
      {fields.map((field) => (
        <label key={field.name}>
          {field.label}
          {field.options ? (
            <select name={field.name} value={filter[field.name] ?? ''} onChange={(event) => go(href(view, { ...filter, [field.name]: event.currentTarget.value }))}>
              <option value="">{field.hint}</option>
              {field.options.map((option) => (
                <option key={option} value={option}>{option}</option>
              ))}
            </select>
          ) : (
            // Not bound to the location while typed in (a poll's re-render would undo the typing); the form is
            // made anew when the location changes.
            <input name={field.name} placeholder={field.hint} defaultValue={filter[field.name] ?? ''} />
          )}
        </label>
      ))}
      {texts.length > 0 && <button type="submit">Filter</button>}
      {Object.values(filter).some(Boolean) && <a href={href(view)}>clear</a>}
    </form>
  );
}

/** A page of a list as a table: loading, empty, the rows, the pager. */
export function PagedTable<T>(props: {
  paged: { resource: Resource<unknown>; rows: T[]; pager: ComponentChildren };
  empty: string;
  head: ComponentChildren;
  row: (item: T) => ComponentChildren;
}) {
  const { paged } = props;
  return (
    <>
      <Loading resource={paged.resource} />
      {paged.resource.data !== undefined && paged.rows.length === 0 && <Empty>{props.empty}</Empty>}
      {paged.rows.length > 0 && (
        <table>
          <thead>
            <tr>{props.head}</tr>
          </thead>
          <tbody>{paged.rows.map(props.row)}</tbody>
        </table>
      )}
      {paged.pager}
    </>
  );
}
