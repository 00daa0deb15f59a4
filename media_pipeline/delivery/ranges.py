"""HTTP byte ranges for local media (RFC 9110 §14): players seek inside MP4/M4A files and fetch I-frame byte
ranges. Django's static ``serve`` sends whole files only; production serves media from S3 or nginx, which do
ranges themselves. One range per request, which is all players ask for."""

import re
from pathlib import Path

from django.http import FileResponse, HttpResponse

SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None when the header asks for no single satisfiable range (pure)."""
    match = SINGLE_RANGE.match(header.strip())
    if not match or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-500": the last 500 bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


def ranged_response(request, path: Path, response: HttpResponse) -> HttpResponse:
    """Turn a whole-file 200 for ``path`` into a 206 (or 416) when the request asks for a range."""
    response["Accept-Ranges"] = "bytes"
    header = request.headers.get("Range", "")
    if not SINGLE_RANGE.match(header.strip()) or response.status_code != 200:
        return response  # no range, or several: the whole file, as RFC 9110 allows
    size = path.stat().st_size
    wanted = parse_range(header, size)
    if wanted is None:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    first, last = wanted
    handle = path.open("rb")
    handle.seek(first)
    partial = FileResponse(_limited(handle, last - first + 1), status=206)
    for name in ("Content-Type", "Cache-Control", "Last-Modified", "Content-Disposition", "X-Content-Type-Options"):
        if name in response:
            partial[name] = response[name]
    partial["Content-Range"] = f"bytes {first}-{last}/{size}"
    partial["Content-Length"] = str(last - first + 1)
    partial["Accept-Ranges"] = "bytes"
    return partial


def _limited(handle, remaining: int, chunk: int = 64 * 1024):
    try:
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()
