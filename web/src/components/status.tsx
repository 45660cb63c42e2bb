import { ApiError } from '../api';

export function Loading({ what = 'Loading…' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      {what}
    </p>
  );
}

/** What went wrong, said for a person: the access cases name what would help. */
export function Failure({ error }: { error: Error }) {
  let text = error.message;
  if (error instanceof ApiError) {
    if (error.status === 401) text = 'Sign in to see this.';
    else if (error.status === 403) text = 'You may not see this: the access rules do not let you pull it.';
    else if (error.status === 404) text = `Not found: ${error.message}.`;
  }
  return (
    <p class="failure" role="alert">
      {text}
    </p>
  );
}
