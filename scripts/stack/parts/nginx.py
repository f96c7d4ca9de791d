"""nginx, the only public listener. Its configuration is rendered from nginx/*.template only:
liftbit.conf.template (the server, shared with Docker Compose's nginx image) inside
local-main.conf.template (the main context the image otherwise brings)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
from pathlib import Path

from scripts.stack.config import ROOT, LauncherError, StackConfig
from scripts.stack.process import Part, can_connect

TEMPLATES = ROOT / "nginx"
WEB_ROOT = ROOT / "web" / "dist"  # the web app's build (scripts/bootstrap.sh runs it)
TEMP_FOLDERS = ("client", "proxy", "fastcgi", "uwsgi", "scgi")


def render_template(template: str, values: dict[str, str]) -> str:
    """Replace ${NAME} placeholders only, as the nginx image's envsubst does; nginx's own
    $variables are left alone."""

    def substitute(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise LauncherError(f"nginx template needs {match[1]}")
        return values[match[1]]

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", substitute, template)


def host_pattern(server_names: tuple[str, ...]) -> str:
    """The Host names nginx answers for, as the regular expression its template matches: the
    configured names exactly (any case), or any name when none is configured."""
    return "|".join(re.escape(name) for name in server_names) or ".+"


def resolver() -> str:
    resolv = Path("/etc/resolv.conf")
    for line in resolv.read_text().splitlines() if resolv.exists() else []:
        if line.startswith("nameserver"):
            return line.split()[1]
    return "127.0.0.1"


def root(config: StackConfig) -> Path:
    return config.home / "nginx"


def prepare(config: StackConfig) -> None:
    folder = root(config)
    for name in TEMP_FOLDERS:
        (folder / "temp" / name).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # workers run as nobody; they only need their temp folders
        nobody = pwd.getpwnam("nobody")
        for name in TEMP_FOLDERS:
            os.chown(folder / "temp" / name, nobody.pw_uid, nobody.pw_gid)
    log = config.logs / "nginx.log"
    server = render_template(
        (TEMPLATES / "liftbit.conf.template").read_text(),
        {
            "LISTEN_ADDRESS": f"{config.bind_address}:{config.ports['PORT']}",
            "FILES_UPSTREAM": f"127.0.0.1:{config.ports['FILES_PORT']}",
            "NGINX_RESOLVER": resolver(),
            "NGINX_ACCESS_LOG": str(log),
            "NGINX_HOST_PATTERN": host_pattern(config.server_names),
            "WEB_ROOT": str(WEB_ROOT),
            "NGINX_PASSWORD_RATE_PER_ADDRESS": config.password_limits.per_address_rate,
            "NGINX_PASSWORD_BURST_PER_ADDRESS": str(config.password_limits.per_address_burst),
            "NGINX_PASSWORD_RATE_TOTAL": config.password_limits.total_rate,
            "NGINX_PASSWORD_BURST_TOTAL": str(config.password_limits.total_burst),
        },
    )
    (folder / "liftbit.conf").write_text(server)
    main = render_template(
        (TEMPLATES / "local-main.conf.template").read_text(),
        {
            "NGINX_USER": "user nobody nogroup;" if os.geteuid() == 0 else "",
            "NGINX_PID_FILE": str(config.run / "nginx.pid.internal"),
            "NGINX_ERROR_LOG": str(log),
            "NGINX_TEMP": str(folder / "temp"),
            "NGINX_SERVER_CONF": str(folder / "liftbit.conf"),
        },
    )
    (folder / "nginx.conf").write_text(main)


def command(config: StackConfig) -> list[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = root(config)
    return [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]


PART = Part(
    "nginx",
    command=command,
    prepare=prepare,
    ready=lambda config: can_connect(config.ports["PORT"]),
    stop_signal=signal.SIGQUIT,  # graceful: finish the transfers under way
)
