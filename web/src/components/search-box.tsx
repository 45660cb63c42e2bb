import type { TargetedKeyboardEvent, TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { navigate, withQuery } from '../router';
import type { SearchResponse, SearchResult } from '../types';
import { ChartIcon } from './chart-icon';
import { Highlighted } from './highlighted';

const suggestions = 8;
/** Long enough to skip the requests of a word typed in one go, short enough to feel immediate. */
const debounceMs = 120;

export const chartHref = (repository: string): string => `/charts/${repository}`;

function Option({ result, id, active, onPick }: { result: SearchResult; id: string; active: boolean; onPick: () => void }) {
  return (
    <li
      id={id}
      role="option"
      aria-selected={active}
      class={active ? 'suggestion active' : 'suggestion'}
      // Keep the focus in the box, so a click does not close the list before it lands.
      onMouseDown={(event) => event.preventDefault()}
      onClick={onPick}
    >
      <ChartIcon name={result.name} icon={result.icon} />
      <span class="suggestion-text">
        <span class="suggestion-head">
          <strong class="suggestion-name">{result.highlights.name ? <Highlighted html={result.highlights.name} /> : result.name}</strong>
          <span class="version">{result.version}</span>
          <span class="repository">{result.repository}</span>
        </span>
        {result.description ? <span class="suggestion-description">{result.description}</span> : null}
      </span>
    </li>
  );
}

/**
 * The search box at the top: a combobox whose list fills as the user types. Arrow keys move
 * through the suggestions, Enter opens the one chosen (or every result, on the search page),
 * Escape closes the list.
 */
export function SearchBox({ query }: { query: string }) {
  const [text, setText] = useState(query);
  const [found, setFound] = useState<SearchResponse | undefined>(undefined);
  const [failure, setFailure] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => setText(query), [query]);

  useEffect(() => {
    const words = text.trim();
    if (words === '') {
      setFound(undefined);
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      api.search(words, 1, suggestions, controller.signal).then(
        (response) => {
          setFound(response);
          setFailure('');
          setActive(-1);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          setFound(undefined);
          setFailure(error instanceof ApiError ? error.message : 'Search failed.');
        },
      );
    }, debounceMs);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [text]);

  // "/" anywhere but in a field jumps to the search box, as on many sites.
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const target = event.target as HTMLElement;
      if (event.key !== '/' || event.ctrlKey || event.metaKey || target.closest('input, textarea, select, [contenteditable]')) return;
      event.preventDefault();
      input.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const results = found?.results ?? [];
  const expanded = open && text.trim() !== '' && (found !== undefined || failure !== '');

  const pick = (result: SearchResult): void => {
    setOpen(false);
    navigate(chartHref(result.repository));
  };

  const onKeyDown = (event: TargetedKeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(true);
      if (results.length === 0) return;
      // -1 is the box itself: moving past either end comes back to it.
      const down = event.key === 'ArrowDown';
      setActive((at) => (down ? (at + 1 < results.length ? at + 1 : -1) : at > -1 ? at - 1 : results.length - 1));
      return;
    }
    if (event.key === 'Escape') {
      setOpen(false);
      setActive(-1);
      return;
    }
    if (event.key === 'Enter' && expanded && results[active]) {
      event.preventDefault();
      pick(results[active]);
    }
  };

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setOpen(false);
    navigate(withQuery('/search', { q: text.trim() }));
  };

  const optionId = (i: number): string => `suggestion-${i}`;
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="search-input" class="visually-hidden">
        Search charts
      </label>
      <input
        id="search-input"
        ref={input}
        type="text"
        enterkeyhint="search"
        placeholder="Search charts (press / to focus)"
        autocomplete="off"
        spellcheck={false}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls="search-suggestions"
        aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" class="search-submit">
        Search
      </button>
      <ul id="search-suggestions" role="listbox" aria-label="Matching charts" class="suggestions" hidden={!expanded}>
        {results.map((result, i) => (
          <Option key={result.repository} result={result} id={optionId(i)} active={i === active} onPick={() => pick(result)} />
        ))}
      </ul>
      <p class="visually-hidden" role="status">
        {expanded ? (failure || (found && found.total === 0 ? 'No chart matches.' : `${found?.total ?? 0} charts match.`)) : ''}
      </p>
      {expanded && (failure || found?.total === 0) ? <p class="suggestions-empty">{failure || 'No chart matches.'}</p> : null}
    </form>
  );
}
