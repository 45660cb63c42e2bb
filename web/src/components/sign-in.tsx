import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { SignInError, signIn } from '../session';

/** The sign-in form, in a modal dialog (the browser keeps the focus inside it and Escape closes it). */
export function SignInDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      setError('');
      element.showModal();
    } else if (!open && element.open) element.close();
  }, [open]);

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const user = String(form.get('username') ?? '');
    const password = String(form.get('password') ?? '');
    setBusy(true);
    setError('');
    signIn(user, password).then(
      () => {
        setBusy(false);
        element.reset();
        onClose();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof SignInError ? err.message : 'Could not reach the token service.');
      },
    );
  };

  return (
    <dialog ref={dialog} class="sign-in" aria-labelledby="sign-in-title" onClose={onClose}>
      <form onSubmit={submit}>
        <h2 id="sign-in-title">Sign in</h2>
        <label for="sign-in-user">User name</label>
        <input id="sign-in-user" name="username" autocomplete="username" required />
        <label for="sign-in-password">Password</label>
        <input id="sign-in-password" name="password" type="password" autocomplete="current-password" required />
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="dialog-buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
