import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onStatus, onUnauthorized, session } from "./api";
import { navigate, useRoute } from "./router";
import { LoginScreen } from "./login";
import { Browser } from "./browser";
import { TrashScreen } from "./trash";
import { Shell } from "./shell";
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

function App() {
  const route = useRoute();
  useEffect(() => {
    // A 401 anywhere: back to login, then back to where the person was.
    onUnauthorized(() => {
      session.clear();
      const here = location.pathname + location.search;
      if (!here.startsWith("/app/login")) navigate(`/app/login?next=${encodeURIComponent(here)}`, true);
    });
  }, []);
  const signedIn = session.token !== null && session.user !== null;
  if (route.name === "login" || route.name === "signup" || !signedIn) {
    if (!signedIn && route.name !== "login" && route.name !== "signup") {
      const here = location.pathname + location.search;
      navigate(`/app/login?next=${encodeURIComponent(here)}`, true);
      return null;
    }
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
        {route.name === "files" ? <Browser user={user} folder={route.path} /> : null}
      </Shell>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
