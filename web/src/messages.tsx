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
