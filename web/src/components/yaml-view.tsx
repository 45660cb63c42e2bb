import { useMemo } from 'preact/hooks';
import { tokenize } from '../yaml-tokens';

/** values.yaml with highlighting and line numbers; the text stays plain text (no HTML is parsed). */
export function YamlView({ text, label }: { text: string; label: string }) {
  const lines = useMemo(() => tokenize(text), [text]);
  return (
    // Focusable so that keyboard users can scroll it sideways.
    <pre class="code yaml" tabIndex={0} aria-label={label}>
      <code>
        {lines.map((tokens, i) => (
          <span class="line" key={i}>
            {tokens.map((token, j) =>
              token.kind ? (
                <span class={`t-${token.kind}`} key={j}>
                  {token.text}
                </span>
              ) : (
                token.text
              ),
            )}
            {'\n'}
          </span>
        ))}
      </code>
    </pre>
  );
}
