// Account security, part of the account screen: change the password, the live sessions (revoke one,
// or sign out everywhere else) and API tokens (create: shown once; list; revoke).
import { useEffect, useState } from "preact/hooks";
import { api, describeError, formatDate } from "./api";
import { ErrorLine, NoticeLine, useActions } from "./messages";
import { isoOrUndefined, ShownOnce } from "./once";

interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  client: string | null;
  current: boolean;
}

interface TokenInfo {
  id: string;
  name: string;
  scope: "read" | "full";
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

const input = (set: (value: string) => void) => (event: Event) => set((event.target as HTMLInputElement).value);

export function AccountSecurity({ user }: { user: string }) {
  const base = `/users/${encodeURIComponent(user)}`;
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [tokens, setTokens] = useState<TokenInfo[]>([]);
  const { error, setError, notice, act } = useActions(() => load());

  async function load() {
    try {
      const [live, issued] = await Promise.all([api<SessionInfo[]>(`${base}/sessions`), api<TokenInfo[]>(`${base}/api-tokens`)]);
      setSessions(live);
      setTokens(issued);
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  useEffect(() => {
    void load();
  }, [user]);


  return (
    <section class="security" aria-labelledby="security-title">
      <h2 id="security-title">Account security</h2>
      <PasswordForm base={base} onChanged={load} />

      <h3>Signed-in sessions</h3>
      <ErrorLine error={error} />
      <NoticeLine notice={notice} />
      <ul class="plain sessions" data-testid="sessions">
        {sessions.map((s) => (
          <li key={s.id}>
            <span>{s.client || "unknown client"}</span>
            <span>signed in {formatDate(s.created_at)}</span>
            <span>last used {s.last_used_at ? formatDate(s.last_used_at) : "never"}</span>
            {s.current ? (
              <strong>this session</strong>
            ) : (
              <button
                type="button"
                aria-label={`Revoke the session signed in ${formatDate(s.created_at)}`}
                onClick={() => act(() => api(`${base}/sessions/${encodeURIComponent(s.id)}`, { method: "DELETE" }), "The session was signed out.")}
              >
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      <button
        type="button"
        disabled={sessions.filter((s) => !s.current).length === 0}
        onClick={() => act(() => api(`${base}/sessions`, { method: "DELETE" }), "Every other session was signed out.")}
      >
        Sign out everywhere else
      </button>

      <TokenForm base={base} onCreated={load} />
      <ul class="plain tokens" data-testid="api-tokens">
        {tokens.map((t) => (
          <li key={t.id} data-token={t.name}>
            <strong>{t.name}</strong>
            <span>{t.scope === "read" ? "read only" : "full access"}</span>
            <span>created {formatDate(t.created_at)}</span>
            <span>last used {t.last_used_at ? formatDate(t.last_used_at) : "never"}</span>
            <span>{t.expires_at ? `expires ${formatDate(t.expires_at)}` : "no expiry"}</span>
            <button
              type="button"
              aria-label={`Revoke token ${t.name}`}
              onClick={() => act(() => api(`${base}/api-tokens/${encodeURIComponent(t.id)}`, { method: "DELETE" }), `The token ${t.name} was revoked.`)}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      {tokens.length === 0 ? <p class="empty">No API tokens.</p> : null}
    </section>
  );
}

function PasswordForm({ base, onChanged }: { base: string; onChanged: () => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setNotice(null);
    try {
      await api(`${base}/password`, { method: "POST", body: { current_password: current, new_password: next } });
      setCurrent("");
      setNext("");
      setNotice("Your password was changed: every other session and API token was signed out.");
      onChanged();
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <form class="link-form" onSubmit={submit} aria-labelledby="password-title">
      <h3 id="password-title">Change password</h3>
      <label>
        Current password
        <input type="password" name="current-password" autocomplete="current-password" required value={current} onInput={input(setCurrent)} />
      </label>
      <label>
        New password
        <input type="password" name="new-password" autocomplete="new-password" required value={next} onInput={input(setNext)} />
      </label>
      <button type="submit" class="primary">
        Change password
      </button>
      <ErrorLine error={error} />
      <NoticeLine notice={notice} />
    </form>
  );
}

function TokenForm({ base, onCreated }: { base: string; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [scope, setScope] = useState<"read" | "full">("read");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const body: Record<string, unknown> = { name, scope };
      const at = isoOrUndefined(expires);
      if (at) body.expires_at = at;
      const made = await api<{ token: string; name: string }>(`${base}/api-tokens`, { method: "POST", body });
      setCreated(made);
      setName("");
      setExpires("");
      onCreated();
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <>
      <form class="link-form" onSubmit={submit} aria-labelledby="tokens-title">
        <h3 id="tokens-title">API tokens</h3>
        <label>
          Token name
          <input name="token-name" required value={name} onInput={input(setName)} autocomplete="off" />
        </label>
        <label>
          Access
          <select name="token-scope" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as "read" | "full")}>
            <option value="read">read only</option>
            <option value="full">full access</option>
          </select>
        </label>
        <label>
          Expires (optional)
          <input name="token-expires" type="datetime-local" value={expires} onInput={input(setExpires)} />
        </label>
        <button type="submit" class="primary">
          Create token
        </button>
      </form>
      <ErrorLine error={error} />
      {created ? (
        <ShownOnce
          label={`API token ${created.name}`}
          value={created.token}
          hint="Send it as Authorization: Bearer <token>, or set LIFTBIT_TOKEN for the liftbit command."
          testId="api-token"
        />
      ) : null}
    </>
  );
}
