"""Where to go after a form: only ever a path on this site (no open redirect)."""

from urllib.parse import urlsplit


def local_path_or(target: str | None, fallback: str) -> str:
    """`target` when it is a path on this site ("/review/approvals"), else `fallback`."""
    parts = urlsplit(target or "")
    if (
        target
        and not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return fallback
