// The administration screen (admins only: the API answers anyone else 403 admin_only): the users
// with their quota, disabling, password reset and deletion; invitations; platform totals; the audit.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, describeError, formatDate, formatSize, session } from "./api";
import { Dialog } from "./dialog";
import { ErrorLine, NoticeLine, useActions } from "./messages";
import { isoOrUndefined, parseSize, ShownOnce, sizeInput } from "./once";

export interface Me {
  username: string;
  role: "admin" | "user";
  scope: string;
  expires_at: string | null;
}

// One /auth/me per session token: the navigation asks it to show Administration to admins only.
let meCache: { token: string; answer: Promise<Me> } | null = null;
export function useMe(): Me | null {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    const token = session.token;
    if (!token) return;
    if (!meCache || meCache.token !== token) meCache = { token, answer: api<Me>("/auth/me") };
    meCache.answer.then(setMe, () => undefined);
  }, []);
  return me;
}

interface AdminUser {
  username: string;
  role: "admin" | "user";
  disabled: boolean;
  used_bytes: number;
  quota_bytes: number | null;
  file_count: number;
  last_login_at: string | null;
  created_at: string;
}

interface Stats {
  users: number;
  admins: number;
  disabled_users: number;
  files: number;
  bytes: number;
  uploads_today: number;
  downloads_today: number;
  download_bytes_today: number;
}

interface AuditEntry {
  id: number;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
  occurred_at: string;
}

type Secret = { label: string; value: string; hint?: string; testId: string };

const userPath = (name: string) => `/admin/users/${encodeURIComponent(name)}`;

export function AdminScreen() {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [forbidden, setForbidden] = useState(false);
  const { error, setError, notice, act } = useActions(() => load());
  const [secret, setSecret] = useState<Secret | null>(null);
  const [quotaFor, setQuotaFor] = useState<AdminUser | null>(null);
  const [deleting, setDeleting] = useState<AdminUser | null>(null);

  async function load() {
    try {
      const [listed, totals, entries] = await Promise.all([
        api<AdminUser[]>("/admin/users"),
        api<Stats>("/admin/stats"),
        api<AuditEntry[]>("/admin/audit?limit=50"),
      ]);
      setUsers(listed);
      setStats(totals);
      setAudit(entries);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 403) setForbidden(true);
      else setError(describeError(failure));
    }
  }
  useEffect(() => {
    void load();
  }, []);


  function reset(user: AdminUser) {
    void act(async () => {
      const issued = await api<{ token: string; expires_at: string }>(`${userPath(user.username)}/reset`, { method: "POST" });
      setSecret({
        label: `Password reset code for ${user.username}`,
        value: issued.token,
        hint: `Valid until ${formatDate(issued.expires_at)}: they set a new password with it (POST /auth/reset, or liftbit password --reset).`,
        testId: "reset-token",
      });
    }, `A reset code for ${user.username} was made.`);
  }

  if (forbidden) {
    return (
      <section>
        <h1>Administration</h1>
        <p class="error" role="alert">
          Only administrators can open this screen.
        </p>
      </section>
    );
  }

  return (
    <section class="admin">
      <h1>Administration</h1>
      <ErrorLine error={error} />
      <NoticeLine notice={notice} />
      {secret ? <ShownOnce {...secret} /> : null}
      {stats ? (
        <dl class="stats" data-testid="stats">
          <div><dt>Users</dt><dd>{stats.users}</dd></div>
          <div><dt>Admins</dt><dd>{stats.admins}</dd></div>
          <div><dt>Disabled</dt><dd>{stats.disabled_users}</dd></div>
          <div><dt>Files</dt><dd>{stats.files}</dd></div>
          <div><dt>Stored</dt><dd>{formatSize(stats.bytes)}</dd></div>
          <div><dt>Uploads today</dt><dd>{stats.uploads_today}</dd></div>
          <div><dt>Downloads today</dt><dd>{stats.downloads_today} ({formatSize(stats.download_bytes_today)})</dd></div>
        </dl>
      ) : null}

      <h2>Users</h2>
      {users === null && !error ? <p role="status">Loading…</p> : null}
      <div class="table-scroll" role="region" aria-label="Users" tabIndex={0}>
        <table class="users">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Used / quota</th>
              <th scope="col">Files</th>
              <th scope="col">Last login</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(users ?? []).map((user) => (
              <tr key={user.username} data-user={user.username}>
                <th scope="row">{user.username}</th>
                <td>{user.role}</td>
                <td>{user.disabled ? "disabled" : "active"}</td>
                <td>
                  {formatSize(user.used_bytes)} / {user.quota_bytes ? formatSize(user.quota_bytes) : "unlimited"}
                </td>
                <td>{user.file_count}</td>
                <td>{user.last_login_at ? formatDate(user.last_login_at) : "never"}</td>
                <td class="actions">
                  <button type="button" onClick={() => setQuotaFor(user)} aria-label={`Set quota of ${user.username}`}>
                    Quota
                  </button>
                  {user.disabled ? (
                    <button
                      type="button"
                      aria-label={`Enable ${user.username}`}
                      onClick={() => act(() => api(`${userPath(user.username)}/enable`, { method: "POST" }), `${user.username} is enabled.`)}
                    >
                      Enable
                    </button>
                  ) : (
                    <button
                      type="button"
                      aria-label={`Disable ${user.username}`}
                      onClick={() => act(() => api(`${userPath(user.username)}/disable`, { method: "POST" }), `${user.username} is disabled.`)}
                    >
                      Disable
                    </button>
                  )}
                  <button type="button" aria-label={`Reset password of ${user.username}`} onClick={() => reset(user)}>
                    Reset password
                  </button>
                  <button type="button" class="danger" aria-label={`Delete ${user.username}`} onClick={() => setDeleting(user)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <InviteForm onInvited={setSecret} />

      <h2>Audit</h2>
      {audit.length === 0 ? <p class="empty">Nothing recorded yet.</p> : null}
      <ol class="plain audit" data-testid="audit">
        {audit.map((entry) => (
          <li key={entry.id}>
            <span class="muted">{formatDate(entry.occurred_at)}</span> <strong>{entry.actor}</strong> {entry.action}{" "}
            {entry.target}
          </li>
        ))}
      </ol>

      {quotaFor ? (
        <QuotaDialog
          user={quotaFor}
          onClose={() => setQuotaFor(null)}
          onSet={(bytes) =>
            act(async () => {
              await api(`${userPath(quotaFor.username)}/quota`, { method: "PUT", body: { quota_bytes: bytes } });
              setQuotaFor(null);
            }, `The quota of ${quotaFor.username} is ${bytes ? formatSize(bytes) : "unlimited"}.`)
          }
        />
      ) : null}
      {deleting ? (
        <Dialog title={`Delete ${deleting.username} for good?`} onClose={() => setDeleting(null)}>
          <p>Their files, versions, shares, links and tokens are deleted.</p>
          <div class="dialog-buttons">
            <button type="button" onClick={() => setDeleting(null)}>
              Keep {deleting.username}
            </button>
            <button
              type="button"
              class="danger"
              onClick={() =>
                act(async () => {
                  await api(userPath(deleting.username), { method: "DELETE" });
                  setDeleting(null);
                }, `${deleting.username} was deleted.`)
              }
            >
              Delete {deleting.username}
            </button>
          </div>
        </Dialog>
      ) : null}
    </section>
  );
}

function QuotaDialog({ user, onClose, onSet }: { user: AdminUser; onClose: () => void; onSet: (bytes: number | null) => void }) {
  const [text, setText] = useState(sizeInput(user.quota_bytes));
  const [error, setError] = useState<string | null>(null);
  function submit(event: Event) {
    event.preventDefault();
    try {
      onSet(parseSize(text));
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <Dialog title={`Quota of ${user.username}`} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Quota (such as 500M or 10G; empty for unlimited)
          <input name="quota" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} autocomplete="off" />
        </label>
        <ErrorLine error={error} />
        <div class="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Set quota
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function InviteForm({ onInvited }: { onInvited: (secret: Secret) => void }) {
  const [username, setUsername] = useState("");
  const [quota, setQuota] = useState("");
  const [expires, setExpires] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const body: Record<string, unknown> = {};
      if (username.trim()) body.username = username.trim();
      const bytes = parseSize(quota);
      if (bytes) body.quota_bytes = bytes;
      const at = isoOrUndefined(expires);
      if (at) body.expires_at = at;
      const made = await api<{ token: string; expires_at: string }>("/admin/invites", { method: "POST", body });
      const address = `${location.origin}/app/signup?invite=${encodeURIComponent(made.token)}`;
      onInvited({
        label: "Invite code",
        value: made.token,
        hint: `Send it to them with the sign-up address ${address}${username.trim() ? ` (for the username ${username.trim()})` : ""}; it works once, until ${formatDate(made.expires_at)}.`,
        testId: "invite-token",
      });
      setUsername("");
      setQuota("");
      setExpires("");
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <form class="invite link-form" onSubmit={submit} aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <label>
        Username (optional)
        <input name="invite-username" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} autocomplete="off" />
      </label>
      <label>
        Quota (optional, such as 10G)
        <input name="invite-quota" value={quota} onInput={(e) => setQuota((e.target as HTMLInputElement).value)} autocomplete="off" />
      </label>
      <label>
        Expires (optional)
        <input name="invite-expires" type="datetime-local" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" class="primary">
        Create invite
      </button>
      <ErrorLine error={error} />
    </form>
  );
}
