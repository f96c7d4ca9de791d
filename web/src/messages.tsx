import { useState } from "preact/hooks";
import { describeError } from "./api";
// The one way every screen says what went wrong (an alert) or what was done (a status).
export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function NoticeLine({ notice }: { notice: string | null }) {
  return notice ? (
    <p class="notice" role="status">
      {notice}
    </p>
  ) : null;
}

// A screen whose buttons each make one API call and then reload it: the error or notice of the
// last one (the administration and account-security screens).
export function useActions(reload: () => Promise<void>) {
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function act(run: () => Promise<unknown>, done: string) {
    setError(null);
    setNotice(null);
    try {
      await run();
      setNotice(done);
      await reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return { error, setError, notice, setNotice, act };
}
