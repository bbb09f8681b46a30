import { useEffect, useState } from 'preact/hooks';

/** Where the console is: the hash (`#/jobs/42?x=y`) as a path and its parameters. */
export interface Location {
  path: string[];
  params: URLSearchParams;
}

function read(): Location {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?', 2);
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

export function useLocation(): Location {
  const [where, setWhere] = useState(read);
  useEffect(() => {
    const update = () => setWhere(read());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return where;
}

/** A link target: `href('jobs', 42)` is `#/jobs/42`; parameters left empty are dropped. */
export function href(...parts: Array<string | number | Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  const path: string[] = [];
  for (const part of parts) {
    if (typeof part === 'object') {
      for (const [name, value] of Object.entries(part)) if (value) params.set(name, value);
    } else path.push(encodeURIComponent(String(part)));
  }
  const search = params.toString();
  return `#/${path.join('/')}${search ? `?${search}` : ''}`;
}

export function go(target: string): void {
  location.hash = target;
}
