import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onStatus, onUnauthorized, session } from "./api";
import { navigate, useRoute } from "./router";
import { LoginScreen } from "./login";
import { Browser } from "./browser";
import { TrashScreen } from "./trash";
import { Shell } from "./shell";
import { AccountScreen, SharedScreen } from "./other";
import { AdminScreen } from "./admin";
import "./style.css";

function ConnectionBanner() {
  const [offline, setOffline] = useState<string | null>(null);
  useEffect(() => onStatus((status) => setOffline(status.offline)), []);
  if (!offline) return null;
  return (
    <div class="banner" role="status">
      {offline}
    </div>
  );
}

function loginAddress(): string {
  return `/app/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

// The first address, settled before the first render: / opens the files, and without a session
// the login screen (which comes back here after logging in).
if (["/", "/app", "/app/"].includes(location.pathname)) history.replaceState(null, "", "/app/files/");
if (!session.token && !/^\/app\/(login|signup)/.test(location.pathname)) history.replaceState(null, "", loginAddress());

function App() {
  const route = useRoute();
  useEffect(() => {
    // A 401 anywhere: back to login, then back to where the person was.
    onUnauthorized(() => {
      session.clear();
      if (!location.pathname.startsWith("/app/login")) navigate(loginAddress(), true);
    });
  }, []);
  const signedIn = session.token !== null && session.user !== null;
  const needsLogin = !signedIn && route.name !== "login" && route.name !== "signup";
  useEffect(() => {
    if (needsLogin) navigate(loginAddress(), true);
  }, [needsLogin]);
  if (needsLogin) return null;
  if (route.name === "login" || route.name === "signup") {
    return (
      <>
        <ConnectionBanner />
        <LoginScreen mode={route.name === "signup" ? "signup" : "login"} />
      </>
    );
  }
  const user = session.user as string;
  return (
    <>
      <ConnectionBanner />
      <Shell user={user} active={route.name}>
        {route.name === "trash" ? <TrashScreen user={user} /> : null}
        {route.name === "shared" ? <SharedScreen user={user} /> : null}
        {route.name === "account" ? <AccountScreen user={user} /> : null}
        {route.name === "admin" ? <AdminScreen /> : null}
        {route.name === "files" ? <Browser user={user} folder={route.path} /> : null}
      </Shell>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
