const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

const unescape = (text: string): string => text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => entities[entity] ?? entity);

/**
 * A search highlight (the server's HTML-escaped text with `<mark>` around matches) as text and
 * `<mark>` elements: it is never parsed as HTML, whatever the chart's description holds.
 */
export function Highlighted({ html }: { html: string }) {
  const parts = html.split(/<mark>|<\/mark>/);
  return <>{parts.map((part, i) => (i % 2 === 1 ? <mark key={i}>{unescape(part)}</mark> : unescape(part)))}</>;
}
