import { structuredPatch } from 'diff';
import { useMemo } from 'preact/hooks';

/** The values.yaml of two versions, as a unified diff with three lines of context. */
export function ValuesDiff({ before, after, from, to }: { before: string; after: string; from: string; to: string }) {
  const patch = useMemo(() => structuredPatch('values.yaml', 'values.yaml', before, after, from, to, { context: 3 }), [before, after, from, to]);
  const lines = (sign: string): string => {
    const n = patch.hunks.reduce((sum, hunk) => sum + hunk.lines.filter((line) => line.startsWith(sign)).length, 0);
    return n === 1 ? '1 line' : `${n} lines`;
  };
  if (patch.hunks.length === 0) {
    return (
      <p class="diff-summary" role="status">
        The values of {from} and {to} are the same.
      </p>
    );
  }
  return (
    <>
      <p class="diff-summary" role="status">
        {lines('+')} added, {lines('-')} removed, from {from} to {to}.
      </p>
      <pre class="code diff" tabIndex={0} aria-label={`values.yaml changes from ${from} to ${to}`}>
        {patch.hunks.map((hunk) => (
          <span key={`${hunk.oldStart}-${hunk.newStart}`}>
            <span class="diff-hunk">{`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@\n`}</span>
            {hunk.lines.map((line, i) => {
              const text = `${line}\n`;
              if (line.startsWith('+')) return <ins key={i} class="diff-line diff-add">{text}</ins>;
              if (line.startsWith('-')) return <del key={i} class="diff-line diff-del">{text}</del>;
              return (
                <span key={i} class="diff-line">
                  {text}
                </span>
              );
            })}
          </span>
        ))}
      </pre>
    </>
  );
}
