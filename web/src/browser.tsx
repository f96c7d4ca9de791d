// Preact applies style={{...}} through element.style (the CSSOM), which the CSP allows: no inline style attribute is parsed.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  api,
  asList,
  describeError,
  encodePath,
  fileUrl,
  formatDate,
  formatSize,
  listFolder,
  type FileInfo,
  type NodeInfo,
  type Page,
  type Version,
} from "./api";
import { folderUrl, linkClick } from "./router";
import { usageChanged } from "./shell";
import { droppedFiles, uploads, type UploadItem } from "./uploads";
import { Dialog } from "./dialog";
import { ErrorLine, NoticeLine } from "./messages";
import { DetailsDialog } from "./details";

type SortKey = "name" | "size" | "modified" | "type";
const nameOf = (node: NodeInfo) => (node.type === "folder" ? node.name : node.filename);
const sizeOf = (node: NodeInfo) => (node.type === "folder" ? node.total_size : node.size);
const typeOf = (node: NodeInfo) => (node.type === "folder" ? "Folder" : node.content_type);

function compare(key: SortKey): (a: NodeInfo, b: NodeInfo) => number {
  const byName = (a: NodeInfo, b: NodeInfo) => nameOf(a).localeCompare(nameOf(b));
  const folderFirst = (a: NodeInfo, b: NodeInfo) => (a.type === b.type ? 0 : a.type === "folder" ? -1 : 1);
  switch (key) {
    case "size":
      return (a, b) => folderFirst(a, b) || sizeOf(a) - sizeOf(b) || byName(a, b);
    case "modified":
      return (a, b) => folderFirst(a, b) || a.updated_at.localeCompare(b.updated_at) || byName(a, b);
    case "type":
      return (a, b) => folderFirst(a, b) || typeOf(a).localeCompare(typeOf(b)) || byName(a, b);
    default:
      return (a, b) => folderFirst(a, b) || byName(a, b);
  }
}

function Breadcrumbs({ folder }: { folder: string }) {
  const parts = folder ? folder.split("/") : [];
  return (
    <nav aria-label="Breadcrumbs" class="crumbs">
      <ol>
        <li>
          <a href={folderUrl("")} onClick={(e) => linkClick(e, folderUrl(""))} aria-current={parts.length === 0 ? "page" : undefined}>
            My files
          </a>
        </li>
        {parts.map((part, index) => {
          const to = folderUrl(parts.slice(0, index + 1).join("/"));
          return (
            <li key={to}>
              <a href={to} onClick={(e) => linkClick(e, to)} aria-current={index === parts.length - 1 ? "page" : undefined}>
                {part}
              </a>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

// A hand-written window over a fixed row height: only the rows in view (plus a margin) are in the
// DOM, so 5,000 entries scroll like 50. Fixed heights make it a few lines of arithmetic, which is
// why no virtualisation library is used.
const ROW_HEIGHT = 44;
const OVERSCAN = 8;

function Rows({
  rows,
  user,
  selected,
  toggle,
  onAction,
  onDropPaths,
}: {
  rows: NodeInfo[];
  user: string;
  selected: Set<string>;
  toggle: (path: string) => void;
  onAction: (action: Action, node: NodeInfo) => void;
  onDropPaths: (paths: string[], folder: string) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);
  return (
    <div
      class="rows"
      ref={scroller}
      onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}
      data-testid="rows"
      data-count={rows.length}
    >
      <ul class="rows-inner" aria-label="Folder contents" style={{ height: `${rows.length * ROW_HEIGHT}px` }}>
        {visible.map((node, index) => (
          <Row
            key={node.id}
            node={node}
            user={user}
            offset={(first + index) * ROW_HEIGHT}
            checked={selected.has(node.path)}
            toggle={toggle}
            onAction={onAction}
            dragged={() => (selected.has(node.path) ? [...selected] : [node.path])}
            onDropPaths={onDropPaths}
          />
        ))}
      </ul>
    </div>
  );
}

type Action = "details" | "rename" | "move" | "delete" | "versions";

// Entries drag onto a folder's row to move there (the selection, if the dragged row is in it).
const DRAG_TYPE = "application/x-liftbit-paths";

function Row({
  node,
  user,
  offset,
  checked,
  toggle,
  onAction,
  dragged,
  onDropPaths,
}: {
  dragged: () => string[];
  onDropPaths: (paths: string[], folder: string) => void;
  node: NodeInfo;
  user: string;
  offset: number;
  checked: boolean;
  toggle: (path: string) => void;
  onAction: (action: Action, node: NodeInfo) => void;
}) {
  const name = nameOf(node);
  const owner = node.owner || user;
  const to = folderUrl(node.path);
  return (
    <li
      class="row"
      style={{ transform: `translateY(${offset}px)` }}
      data-name={name}
      draggable
      onDragStart={(event) => event.dataTransfer?.setData(DRAG_TYPE, JSON.stringify(dragged()))}
      onDragOver={(event) => {
        if (node.type === "folder" && event.dataTransfer?.types.includes(DRAG_TYPE)) event.preventDefault();
      }}
      onDrop={(event) => {
        const paths = event.dataTransfer?.getData(DRAG_TYPE);
        if (node.type !== "folder" || !paths) return;
        event.preventDefault();
        const moving = (JSON.parse(paths) as string[]).filter((path) => path !== node.path);
        if (moving.length) onDropPaths(moving, node.path);
      }}
    >
      <input type="checkbox" checked={checked} onChange={() => toggle(node.path)} aria-label={`Select ${name}`} />
      <span class="name">
        {node.type === "folder" ? (
          <a href={to} onClick={(e) => linkClick(e, to)} class="folder">
            <span class="icon icon-folder" aria-hidden="true" />
            {name}
          </a>
        ) : (
          <a href={fileUrl(owner, node.path)} download={name} class="file" title={`Download ${name}`}>
            <span class="icon icon-file" aria-hidden="true" />
            {name}
          </a>
        )}
      </span>
      <span class="size">{formatSize(sizeOf(node))}</span>
      <span class="modified">{formatDate(node.updated_at)}</span>
      <span class="type">{typeOf(node)}</span>
      <span class="actions">
        <button type="button" class="keep" onClick={() => onAction("details", node)} aria-label={`Details of ${name}`}>
          Details
        </button>
        <button type="button" onClick={() => onAction("rename", node)} aria-label={`Rename ${name}`}>
          Rename
        </button>
        <button type="button" onClick={() => onAction("move", node)} aria-label={`Move ${name}`}>
          Move
        </button>
        {node.type === "file" ? (
          <button type="button" onClick={() => onAction("versions", node)} aria-label={`Versions of ${name}`}>
            Versions
          </button>
        ) : null}
        <button type="button" class="keep" onClick={() => onAction("delete", node)} aria-label={`Delete ${name}`}>
          Delete
        </button>
      </span>
    </li>
  );
}

function UploadPanel() {
  const [items, setItems] = useState<UploadItem[]>([]);
  useEffect(() => uploads.subscribe(setItems), []);
  if (items.length === 0) return null;
  return (
    <section class="uploads" aria-label="Uploads">
      <h2>Uploads</h2>
      <ul>
        {items.map((item) => {
          const percent = item.size ? Math.floor((item.sent / item.size) * 100) : 100;
          return (
            <li key={item.id} data-testid="upload" data-state={item.state} data-path={item.path}>
              <span class="upload-name">{item.path}</span>
              <progress max={100} value={percent} aria-label={`Upload of ${item.path}`} />
              <span class="upload-figures">
                {percent}% · {formatSize(item.sent)} of {formatSize(item.size)}
                {item.state === "uploading" && item.speed > 0 ? ` · ${formatSize(item.speed)}/s` : ""}
                {item.resumed ? " · resumed" : ""}
                {item.state === "done" ? " · done" : ""}
                {item.state === "cancelled" ? " · cancelled" : ""}
                {item.error && item.state !== "done" ? ` · ${item.error}` : ""}
              </span>
              {item.state === "uploading" || item.state === "waiting" ? (
                <button type="button" onClick={() => uploads.cancel(item.id)} aria-label={`Cancel upload of ${item.path}`}>
                  Cancel
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={() => uploads.clearFinished()}>
        Clear finished
      </button>
    </section>
  );
}

function VersionsDialog({ node, onClose, onChanged }: { node: FileInfo; onClose: () => void; onChanged: () => void }) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Version[] | Page<Version>>(`/files/${node.id}/versions`).then(
      (answer) => setVersions(asList(answer)),
      (failure) => setError(describeError(failure)),
    );
  }, [node.id]);
  async function restore(version: number) {
    try {
      await api(`/files/${node.id}/versions/${version}/restore`, { method: "POST" });
      onChanged();
      onClose();
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <Dialog title={`Versions of ${node.filename}`} onClose={onClose}>
      <ErrorLine error={error} />
      {versions === null ? <p>Loading…</p> : null}
      <ul class="versions">
        {(versions ?? []).map((version, index) => (
          <li key={version.version}>
            <span>
              Version {version.version} · {formatSize(version.size)} · {formatDate(version.created_at)}
              {index === 0 ? " (current)" : ""}
            </span>
            <a href={`/files/${node.id}/versions/${version.version}`} download={node.filename}>
              Download version {version.version}
            </a>
            {index > 0 ? (
              <button type="button" onClick={() => restore(version.version)}>
                Restore version {version.version}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

function PromptDialog({
  title,
  label,
  initial,
  submitLabel,
  onSubmit,
  onClose,
  optional = false,
}: {
  optional?: boolean;
  title: string;
  label: string;
  initial: string;
  submitLabel: string;
  onSubmit: (value: string) => Promise<void>;
  onClose: () => void;
}) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      await onSubmit(value.trim());
      onClose();
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          {label}
          <input value={value} required={!optional} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>
        <ErrorLine error={error} />
        <div class="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

type Open =
  | { kind: "none" }
  | { kind: "new-folder" }
  | { kind: "rename"; node: NodeInfo }
  | { kind: "move"; paths: string[] }
  | { kind: "versions"; node: FileInfo }
  | { kind: "details"; node: NodeInfo };

export function Browser({ user, folder }: { user: string; folder: string }) {
  const [entries, setEntries] = useState<NodeInfo[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [sort, setSort] = useState<SortKey>("name");
  const [descending, setDescending] = useState(false);
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<NodeInfo[] | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<Open>({ kind: "none" });
  const [dragging, setDragging] = useState(false);
  const [reloads, setReloads] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const owner = encodeURIComponent(user);
  const reload = () => {
    setReloads((n) => n + 1);
    usageChanged.dispatchEvent(new Event("change"));
  };

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    setSelected(new Set());
    setResults(null);
    setQuery("");
    const collected: NodeInfo[] = [];
    listFolder(user, folder, (items) => {
      if (!current) return;
      collected.push(...items);
      setEntries([...collected]);
    }).then(
      () => current && setLoading(false),
      (failure) => {
        if (!current) return;
        setEntries([]);
        setLoading(false);
        setError(describeError(failure));
      },
    );
    return () => {
      current = false;
    };
  }, [user, folder]);

  // A reload after a change keeps the search and selection out of the way.
  useEffect(() => {
    if (reloads === 0) return;
    const collected: NodeInfo[] = [];
    listFolder(user, folder, (items) => collected.push(...items)).then(
      () => setEntries(collected),
      (failure) => setError(describeError(failure)),
    );
  }, [reloads]);

  useEffect(() => {
    const listener = () => reload();
    uploads.finished.addEventListener("done", listener);
    return () => uploads.finished.removeEventListener("done", listener);
  }, []);

  // Files dropped anywhere on the page are uploaded into the folder on screen.
  useEffect(() => {
    const over = (event: DragEvent) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      setDragging(true);
    };
    const leave = (event: DragEvent) => {
      if (event.relatedTarget === null) setDragging(false);
    };
    const drop = async (event: DragEvent) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      setDragging(false);
      const files = await droppedFiles(event.dataTransfer);
      for (const { file, path } of files) uploads.add(file, folder ? `${folder}/${path}` : path);
    };
    document.addEventListener("dragover", over);
    document.addEventListener("dragleave", leave);
    document.addEventListener("drop", drop);
    return () => {
      document.removeEventListener("dragover", over);
      document.removeEventListener("dragleave", leave);
      document.removeEventListener("drop", drop);
    };
  }, [folder]);

  async function search(event: Event) {
    event.preventDefault();
    if (!query.trim()) {
      setResults(null);
      return;
    }
    try {
      const params = new URLSearchParams({ q: query.trim(), limit: "1000" });
      if (folder) params.set("prefix", folder);
      const page = await api<Page<FileInfo>>(`/users/${owner}/files?${params}`);
      setResults(page.items);
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  const shown = useMemo(() => {
    const list = [...(results ?? entries)].sort(compare(sort));
    if (descending) list.reverse();
    return list;
  }, [entries, results, sort, descending]);

  function toggle(path: string) {
    setSelected((previous) => {
      const next = new Set(previous);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
  }

  async function remove(nodes: NodeInfo[]) {
    setError(null);
    try {
      for (const node of nodes) {
        const path = encodePath(node.path);
        await api(node.type === "folder" ? `/users/${owner}/folders/${path}` : `/users/${owner}/files/${path}`, {
          method: "DELETE",
        });
      }
      setNotice(nodes.length === 1 ? `${nameOf(nodes[0])} moved to the trash` : `${nodes.length} items moved to the trash`);
      setSelected(new Set());
      reload();
    } catch (failure) {
      setError(describeError(failure));
      reload();
    }
  }

  async function move(from: string, to: string) {
    await api(`/users/${owner}/move`, { method: "POST", body: { from, to } });
  }

  async function moveAll(paths: string[], target: string) {
    setError(null);
    try {
      for (const path of paths) await move(path, target ? `${target}/${path.split("/").pop()}` : (path.split("/").pop() as string));
      setNotice(`${paths.length === 1 ? paths[0].split("/").pop() : `${paths.length} items`} moved to ${target || "My files"}`);
      setSelected(new Set());
    } catch (failure) {
      setError(describeError(failure));
    }
    reload();
  }

  function onAction(action: Action, node: NodeInfo) {
    if (action === "details") setOpen({ kind: "details", node });
    else if (action === "rename") setOpen({ kind: "rename", node });
    else if (action === "move") setOpen({ kind: "move", paths: [node.path] });
    else if (action === "versions" && node.type === "file") setOpen({ kind: "versions", node });
    else if (action === "delete") void remove([node]);
  }

  const selectedNodes = shown.filter((node) => selected.has(node.path));
  const allSelected = shown.length > 0 && selectedNodes.length === shown.length;
  const parent = folder ? `${folder}/` : "";

  return (
    <div class={dragging ? "browser dragging" : "browser"}>
      <div class="browser-head">
        <Breadcrumbs folder={folder} />
        <h1 class="sr-only">{folder ? folder.split("/").pop() : "My files"}</h1>
      </div>
      <div class="toolbar">
        <form role="search" onSubmit={search} class="search">
          <label class="sr-only" for="search">
            Search names
          </label>
          <input
            id="search"
            type="search"
            placeholder="Search names"
            value={query}
            onInput={(e) => {
              const value = (e.target as HTMLInputElement).value;
              setQuery(value);
              if (!value) setResults(null);
            }}
          />
          <button type="submit">Search</button>
        </form>
        <label class="sort">
          Sort by
          <select value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value as SortKey)}>
            <option value="name">Name</option>
            <option value="size">Size</option>
            <option value="modified">Modified</option>
            <option value="type">Type</option>
          </select>
        </label>
        <button type="button" onClick={() => setDescending(!descending)} aria-pressed={descending}>
          {descending ? "Descending" : "Ascending"}
        </button>
        <button type="button" onClick={() => setOpen({ kind: "new-folder" })}>
          New folder
        </button>
        <label class="button">
          Upload files
          <input
            type="file"
            multiple
            class="sr-only"
            data-testid="file-input"
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              for (const file of Array.from(input.files ?? [])) uploads.add(file, parent + file.name);
              input.value = "";
            }}
          />
        </label>
        <label class="button">
          Upload a folder
          <input
            type="file"
            multiple
            class="sr-only"
            ref={(el) => {
              el?.setAttribute("webkitdirectory", "");
            }}
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              for (const file of Array.from(input.files ?? [])) uploads.add(file, parent + (file.webkitRelativePath || file.name));
              input.value = "";
            }}
          />
        </label>
      </div>
      {selectedNodes.length > 0 ? (
        <div class="selection" role="region" aria-label="Selection">
          <span>{selectedNodes.length} selected</span>
          <button type="button" onClick={() => setOpen({ kind: "move", paths: selectedNodes.map((n) => n.path) })}>
            Move selected
          </button>
          <button type="button" onClick={() => remove(selectedNodes)}>
            Delete selected
          </button>
          <button type="button" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </div>
      ) : null}
      <ErrorLine error={error} />
      <NoticeLine notice={notice} />
      {results !== null ? (
        <p role="status">
          {results.length} result{results.length === 1 ? "" : "s"} for “{query}”{" "}
          <button type="button" onClick={() => { setResults(null); setQuery(""); }}>
            Show the whole folder
          </button>
        </p>
      ) : null}
      <div class="list-head" aria-hidden="true">
        <span />
        <span>Name</span>
        <span class="size">Size</span>
        <span class="modified">Modified</span>
        <span class="type">Type</span>
        <span />
      </div>
      <label class="select-all">
        <input
          type="checkbox"
          checked={allSelected}
          onChange={() => setSelected(allSelected ? new Set() : new Set(shown.map((n) => n.path)))}
        />
        Select all ({shown.length})
      </label>
      {loading && entries.length === 0 ? <p role="status">Loading…</p> : null}
      {!loading && shown.length === 0 && !error ? (
        <p class="empty">This folder is empty. Drop files or folders anywhere on the page to upload them.</p>
      ) : null}
      <Rows
        rows={shown}
        user={user}
        selected={selected}
        toggle={toggle}
        onAction={onAction}
        onDropPaths={(paths, target) => void moveAll(paths, target)}
      />
      <UploadPanel />
      {dragging ? (
        <div class="drop-hint" aria-hidden="true">
          Drop to upload into {folder || "My files"}
        </div>
      ) : null}
      {open.kind === "new-folder" ? (
        <PromptDialog
          title="New folder"
          label="Folder name"
          initial=""
          submitLabel="Create"
          onClose={() => setOpen({ kind: "none" })}
          onSubmit={async (name) => {
            await api(`/users/${owner}/folders/${encodePath(parent + name)}`, { method: "PUT" });
            reload();
          }}
        />
      ) : null}
      {open.kind === "rename" ? (
        <PromptDialog
          title={`Rename ${nameOf(open.node)}`}
          label="New name"
          initial={nameOf(open.node)}
          submitLabel="Rename"
          onClose={() => setOpen({ kind: "none" })}
          onSubmit={async (name) => {
            await move(open.node.path, parent + name);
            reload();
          }}
        />
      ) : null}
      {open.kind === "move" ? (
        <PromptDialog
          title={open.paths.length === 1 ? `Move ${open.paths[0].split("/").pop()}` : `Move ${open.paths.length} items`}
          label="Destination folder (empty for My files)"
          initial={folder}
          optional
          submitLabel="Move"
          onClose={() => setOpen({ kind: "none" })}
          onSubmit={async (destination) => {
            const target = destination.split("/").filter(Boolean).join("/");
            for (const path of open.paths) {
              const name = path.split("/").pop() as string;
              await move(path, target ? `${target}/${name}` : name);
            }
            setSelected(new Set());
            reload();
          }}
        />
      ) : null}
      {open.kind === "details" ? <DetailsDialog node={open.node} onClose={() => setOpen({ kind: "none" })} /> : null}
      {open.kind === "versions" ? (
        <VersionsDialog node={open.node} onClose={() => setOpen({ kind: "none" })} onChanged={reload} />
      ) : null}
    </div>
  );
}
