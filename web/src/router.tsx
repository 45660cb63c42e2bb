import type { ComponentChildren, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

// A small history router: the server answers every page path with index.html, and the
// location is the state (shareable, restored on reload and by the back button).

export interface Location {
  path: string;
  query: URLSearchParams;
}

const changeEvent = 'chartroom:navigate';

function current(): Location {
  return { path: decodeURI(window.location.pathname), query: new URLSearchParams(window.location.search) };
}

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (href === `${window.location.pathname}${window.location.search}`) return;
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(changeEvent));
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = (): void => setLocation(current());
    window.addEventListener('popstate', update);
    window.addEventListener(changeEvent, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(changeEvent, update);
    };
  }, []);
  return location;
}

/** A query string from the pairs whose value is set. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

interface LinkProps {
  href: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
  'aria-current'?: 'page' | 'true' | undefined;
  'aria-label'?: string;
}

/** An `<a>` that moves within the UI without a page load (modified clicks open tabs as usual). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: TargetedMouseEvent<HTMLAnchorElement>): void => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
