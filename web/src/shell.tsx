import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, formatSize, logout, type UserInfo } from "./api";
import { linkClick, navigate } from "./router";
import { useMe } from "./admin";

// Other screens ask the usage line to refresh after an upload or a delete.
export const usageChanged = new EventTarget();

function Usage({ user }: { user: string }) {
  const [info, setInfo] = useState<UserInfo | null>(null);
  useEffect(() => {
    const load = () => {
      api<UserInfo>(`/users/${encodeURIComponent(user)}`).then(setInfo, () => undefined);
    };
    load();
    usageChanged.addEventListener("change", load);
    return () => usageChanged.removeEventListener("change", load);
  }, [user]);
  if (!info) return null;
  const quota = info.quota_bytes;
  return (
    <div class="usage" data-testid="usage">
      <span>
        {formatSize(info.used_bytes)} used{quota !== null ? ` of ${formatSize(quota)}` : ""}
      </span>
      {quota !== null ? (
        <progress max={quota} value={info.used_bytes} aria-label="Storage used against your quota" />
      ) : null}
    </div>
  );
}

export function Shell({ user, active, children }: { user: string; active: string; children: ComponentChildren }) {
  const me = useMe();
  async function signOut() {
    await logout().catch(() => undefined);
    navigate("/app/login", true);
  }
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="/app/files/" onClick={(e) => linkClick(e, "/app/files/")}>
          LiftBit
        </a>
        <nav aria-label="Sections">
          <a href="/app/files/" aria-current={active === "files" ? "page" : undefined} onClick={(e) => linkClick(e, "/app/files/")}>
            Files
          </a>
          <a href="/app/shared" aria-current={active === "shared" ? "page" : undefined} onClick={(e) => linkClick(e, "/app/shared")}>
            Shared with me
          </a>
          <a href="/app/trash" aria-current={active === "trash" ? "page" : undefined} onClick={(e) => linkClick(e, "/app/trash")}>
            Trash
          </a>
          <a href="/app/account" aria-current={active === "account" ? "page" : undefined} onClick={(e) => linkClick(e, "/app/account")}>
            Account
          </a>
          {me?.role === "admin" ? (
            <a href="/app/admin" aria-current={active === "admin" ? "page" : undefined} onClick={(e) => linkClick(e, "/app/admin")}>
              Administration
            </a>
          ) : null}
        </nav>
        <Usage user={user} />
        <span class="who">{user}</span>
        <button type="button" onClick={signOut}>
          Log out
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}
