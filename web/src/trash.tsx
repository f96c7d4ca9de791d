import { useEffect, useState } from "preact/hooks";
import { api, asList, describeError, formatDate, formatSize, type Page, type TrashEntry } from "./api";
import { usageChanged } from "./shell";
import { ErrorLine, NoticeLine } from "./messages";

export function TrashScreen({ user }: { user: string }) {
  const [entries, setEntries] = useState<TrashEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const base = `/users/${encodeURIComponent(user)}/trash`;
  const load = () =>
    api<TrashEntry[] | Page<TrashEntry>>(`${base}?limit=1000`).then(
      (answer) => setEntries(asList(answer)),
      (failure) => setError(describeError(failure)),
    );
  useEffect(() => {
    void load();
  }, [user]);

  async function act(call: Promise<unknown>, done: string) {
    setError(null);
    try {
      await call;
      setNotice(done);
    } catch (failure) {
      setError(describeError(failure));
    }
    usageChanged.dispatchEvent(new Event("change"));
    await load();
  }

  return (
    <section class="trash">
      <h1>Trash</h1>
      <ErrorLine error={error} />
      <NoticeLine notice={notice} />
      {entries === null ? <p role="status">Loading…</p> : null}
      {entries && entries.length === 0 ? <p class="empty">The trash is empty.</p> : null}
      {entries && entries.length > 0 ? (
        <>
          <button
            type="button"
            class="danger"
            onClick={() => {
              if (confirm("Delete everything in the trash for good?")) void act(api(base, { method: "DELETE" }), "The trash was emptied");
            }}
          >
            Empty the trash
          </button>
          <ul class="trash-list">
            {entries.map((entry) => (
              <li key={entry.id} data-path={entry.path}>
                <span class="name">
                  <span class={entry.type === "folder" ? "icon icon-folder" : "icon icon-file"} aria-hidden="true" />
                  {entry.path}
                </span>
                <span>{formatSize(entry.size)}</span>
                <span>deleted {formatDate(entry.deleted_at)}</span>
                <button
                  type="button"
                  onClick={() => act(api(`${base}/${entry.id}/restore`, { method: "POST" }), `${entry.path} was restored`)}
                  aria-label={`Restore ${entry.path}`}
                >
                  Restore
                </button>
                <button
                  type="button"
                  class="danger"
                  onClick={() => act(api(`${base}/${entry.id}`, { method: "DELETE" }), `${entry.path} was deleted for good`)}
                  aria-label={`Delete for good ${entry.path}`}
                >
                  Delete for good
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
