// "Shared with me" and the account screen (usage, account deletion).
import { useEffect, useState } from "preact/hooks";
import { api, asList, describeError, fileUrl, formatDate, formatSize, logout, session, type NodeInfo, type Page, type UserInfo } from "./api";
import { Dialog } from "./dialog";
import { ErrorLine } from "./messages";
import { navigate } from "./router";
import { AccountSecurity } from "./security";

export function SharedScreen({ user }: { user: string }) {
  const [items, setItems] = useState<NodeInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<NodeInfo[] | Page<NodeInfo>>(`/users/${encodeURIComponent(user)}/shared`).then(
      (answer) => setItems(asList(answer)),
      (failure) => setError(describeError(failure)),
    );
  }, [user]);
  return (
    <section>
      <h1>Shared with me</h1>
      <ErrorLine error={error} />
      {items === null && !error ? <p role="status">Loading…</p> : null}
      {items && items.length === 0 ? <p class="empty">Nobody shared anything with you yet.</p> : null}
      <ul class="plain shared-list">
        {(items ?? []).map((node) => (
          <li key={node.id} data-name={node.path}>
            <span class="name">
              <span class={node.type === "folder" ? "icon icon-folder" : "icon icon-file"} aria-hidden="true" />
              {node.path}
            </span>
            <span>from {node.owner}</span>
            {node.type === "file" ? (
              <>
                <span>{formatSize(node.size)}</span>
                <span>{formatDate(node.updated_at)}</span>
                <a href={fileUrl(node.owner, node.path)} download={node.filename}>
                  Download {node.filename}
                </a>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function AccountScreen({ user }: { user: string }) {
  const [info, setInfo] = useState<UserInfo | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<UserInfo>(`/users/${encodeURIComponent(user)}`).then(setInfo, (failure) => setError(describeError(failure)));
  }, [user]);
  async function remove(event: Event) {
    event.preventDefault();
    try {
      await api(`/users/${encodeURIComponent(user)}`, { method: "DELETE" });
      await logout().catch(() => session.clear());
      navigate("/app/login?deleted=1", true);
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <section class="account">
      <h1>Account</h1>
      {info ? (
        <p>
          {info.username}: {info.file_count} files, {formatSize(info.used_bytes)} used
          {info.quota_bytes !== null ? ` of ${formatSize(info.quota_bytes)}` : " (no quota)"}.
        </p>
      ) : null}
      <ErrorLine error={error} />
      <AccountSecurity user={user} />
      <h2>Delete my account</h2>
      <p>Your files, their versions, your shares and links are deleted for good.</p>
      <button type="button" class="danger" onClick={() => setConfirming(true)}>
        Delete my account…
      </button>
      {confirming ? (
        <Dialog title="Delete your account for good?" onClose={() => setConfirming(false)}>
          <form onSubmit={remove}>
            <label>
              Type your username, {user}, to confirm
              <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autocomplete="off" />
            </label>
            <ErrorLine error={error} />
            <div class="dialog-buttons">
              <button type="button" onClick={() => setConfirming(false)}>
                Keep my account
              </button>
              <button type="submit" class="danger" disabled={typed !== user}>
                Delete everything
              </button>
            </div>
          </form>
        </Dialog>
      ) : null}
    </section>
  );
}
