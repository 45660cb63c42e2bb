import { useState } from 'preact/hooks';

/** The clipboard API needs a secure context (https or localhost); plain-HTTP hosts get the older way. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

/** A command in a box with a Copy button beside it. */
export function CopyCommand({ label, command }: { label: string; command: string }) {
  const [status, setStatus] = useState('');
  const copy = (): void => {
    copyText(command).then(
      () => setStatus('Copied'),
      () => setStatus('Could not copy: select the text instead'),
    );
    window.setTimeout(() => setStatus(''), 2500);
  };
  return (
    <div class="command">
      <div class="command-label">{label}</div>
      <div class="command-row">
        <code class="command-text">{command}</code>
        <button type="button" class="copy" data-copy={command} aria-label={`Copy ${label} command`} onClick={copy}>
          Copy
        </button>
      </div>
      <span class="copy-status" role="status">
        {status}
      </span>
    </div>
  );
}
