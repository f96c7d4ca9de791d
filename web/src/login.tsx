import { useState } from "preact/hooks";
import { api, describeError, login } from "./api";
import { linkClick, navigate } from "./router";
import { ErrorLine } from "./messages";

export function LoginScreen({ mode }: { mode: "login" | "signup" }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [invite, setInvite] = useState(() => new URLSearchParams(location.search).get("invite") ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signup) await api("/users", { method: "POST", body: invite.trim() ? { username, password, invite: invite.trim() } : { username, password }, auth: false });
      await login(username, password);
      const next = new URLSearchParams(location.search).get("next");
      navigate(next && next.startsWith("/app/") ? next : "/app/files/", true);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="auth">
      <h1>LiftBit</h1>
      <form class="card" onSubmit={submit} aria-labelledby="auth-title">
        <h2 id="auth-title">{signup ? "Create an account" : "Log in"}</h2>
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete={signup ? "new-password" : "current-password"}
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {signup ? (
          <label>
            Invite code (if you were given one)
            <input name="invite" autocomplete="off" value={invite} onInput={(e) => setInvite((e.target as HTMLInputElement).value)} />
          </label>
        ) : null}
        {new URLSearchParams(location.search).has("deleted") ? (
          <p class="notice" role="status">
            Your account was deleted.
          </p>
        ) : null}
        <ErrorLine error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {signup ? "Sign up" : "Log in"}
        </button>
        <p>
          {signup ? (
            <a href="/app/login" onClick={(e) => linkClick(e, "/app/login" + location.search)}>
              I have an account: log in
            </a>
          ) : (
            <a href="/app/signup" onClick={(e) => linkClick(e, "/app/signup" + location.search)}>
              New here? Create an account
            </a>
          )}
        </p>
      </form>
    </main>
  );
}
