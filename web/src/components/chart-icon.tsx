import { useState } from 'preact/hooks';

/** Only web and inline images: an icon URL is the chart author's text. */
function safeIcon(icon: string | undefined): string | undefined {
  return icon && /^(https?:|data:image\/)/i.test(icon) ? icon : undefined;
}

/** A chart's icon, or its initial on a tile when it has none or it does not load. Decorative: the name is always beside it. */
export function ChartIcon({ name, icon, large = false }: { name: string; icon?: string | undefined; large?: boolean }) {
  const size = large ? 64 : 40;
  const className = `chart-icon${large ? ' chart-icon-large' : ''}`;
  const [failed, setFailed] = useState(false);
  const src = safeIcon(icon);
  if (src && !failed) {
    return <img class={className} src={src} alt="" width={size} height={size} loading="lazy" referrerpolicy="no-referrer" onError={() => setFailed(true)} />;
  }
  return (
    <span class={`${className} chart-icon-letter`} aria-hidden="true">
      {name.slice(0, 1).toUpperCase()}
    </span>
  );
}
