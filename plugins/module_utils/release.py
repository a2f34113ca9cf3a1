# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release-mirror client: release metadata per distro and resumable, retried downloads.

Flatcar and legacy CoreOS publish ``<base>/<arch>-usr/<version>/<file>`` with ``.sig`` and ``.DIGESTS``
(``.DIGESTS.asc`` clearsigned) beside each file and ``version.txt`` in each release (``current`` is the
newest). Fedora CoreOS publishes a stream JSON (``<base>/streams/<stream>.json``) naming the current
release's files with their sha256 and signature URLs, and ``meta.json`` per build under
``<base>/prod/streams/<stream>/builds/<version>/<arch>/``. File names always come from that metadata.
"""

import http.client
import json
import os
import queue
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, NotFoundError, ValidationError

CHUNK = 1024 * 1024

DISTROS = {
    "flatcar": {
        "channels": ("stable", "beta", "alpha", "lts"),
        "base_url": "https://{channel}.release.flatcar-linux.net",
        "gpg_key": "https://www.flatcar.org/security/image-signing-key/Flatcar_Image_Signing_Key.asc",
        "fingerprint": "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A",
        "version_var": "FLATCAR_VERSION",
        "files": {"kernel": "flatcar_production_pxe.vmlinuz", "initramfs": "flatcar_production_pxe_image.cpio.gz",
                  "image": "flatcar_production_image.bin.bz2"},
        "artifacts": ["kernel", "initramfs", "image"],
    },
    "coreos": {
        "channels": ("stable", "beta", "alpha"),
        "base_url": None,
        "gpg_key": None,
        "fingerprint": "04127D0BFABEC8871FFB2CCE50E0885593D2DCB4",
        "version_var": "COREOS_VERSION",
        "files": {"kernel": "coreos_production_pxe.vmlinuz", "initramfs": "coreos_production_pxe_image.cpio.gz",
                  "image": "coreos_production_image.bin.bz2"},
        "artifacts": ["kernel", "initramfs", "image"],
    },
    "fedora-coreos": {
        "channels": ("stable", "testing", "next"),
        "base_url": "https://builds.coreos.fedoraproject.org",
        # Fedora's keyring holds one primary key per Fedora release; the stream's signer changes with it
        "gpg_key": "https://fedoraproject.org/fedora.gpg",
        "fingerprint": None,
        "artifacts": ["kernel", "initramfs", "rootfs", "image"],
    },
}
ARTIFACT_KEYS = ("kernel", "initramfs", "rootfs", "image")
PXE_KEYS = ("kernel", "initramfs", "rootfs")
ARCHES = {"amd64": ("amd64", "x86_64"), "x86_64": ("amd64", "x86_64"),
          "arm64": ("arm64", "aarch64"), "aarch64": ("arm64", "aarch64")}
FCOS_IMAGES = {"kernel": "live-kernel", "initramfs": "live-initramfs", "rootfs": "live-rootfs", "image": "metal"}
TRANSIENT_STATUS = (408, 425, 429, 500, 502, 503, 504)
USER_AGENT = "netboot.coreos-repo-sync"


class ChunkWorker(threading.Thread):
    """Applies ``consume`` to queued chunks in its own thread, so writing, hashing and gpg overlap the download."""

    def __init__(self, consume):
        super().__init__()
        self.daemon = True
        self.consume = consume
        self.chunks = queue.Queue(maxsize=4)  # bounded: memory stays flat
        self.error = None
        self.start()

    def run(self):
        while True:
            chunk = self.chunks.get()
            if chunk is None:
                return
            if self.error is None:
                try:
                    self.consume(chunk)
                except (IOError, OSError) as exc:
                    self.error = exc

    def finish(self):
        """Wait until every queued chunk is consumed."""
        self.chunks.put(None)
        self.join()


class FileWriter:
    """Appends chunks to an open file and starts their writeback early (the final fsync then waits less)."""

    WRITEBACK_EVERY = 32 * 1024 * 1024

    def __init__(self, handle, offset):
        self.handle = handle
        self.written = offset
        self.flushed = offset

    def write(self, chunk):
        self.handle.write(chunk)
        self.written += len(chunk)
        if self.written - self.flushed >= self.WRITEBACK_EVERY and hasattr(os, "posix_fadvise"):
            self.handle.flush()
            # Linux starts writing dirty pages of the range back now, instead of when the fsync comes
            os.posix_fadvise(self.handle.fileno(), self.flushed, self.written - self.flushed, os.POSIX_FADV_DONTNEED)
            self.flushed = self.written


class Artifact:
    """One file of a release: where it is, its signature and how its digest is known."""

    def __init__(self, key, name, url, sig_url, algo, digest=None, digests_url=None):
        self.key = key
        self.name = name
        self.url = url
        self.sig_url = sig_url
        self.algo = algo
        self.digest = digest
        self.digests_url = digests_url
        self.signature = None  # the detached signature's bytes, fetched with the metadata before any download


class FetchError(NetbootError):
    """A download failed after its retries."""


class MissingError(NetbootError):
    """The mirror answered 404."""

    def __init__(self, url):
        super().__init__("%s not found on the mirror (HTTP 404)" % url, url=url)
        self.url = url


class _Transient(Exception):
    """A failure worth retrying (5xx, reset, timeout, short body)."""


class HttpClient:
    """GETs with timeouts, retries with exponential backoff, and Range resume of downloads."""

    def __init__(self, timeout=30, retries=3, validate_certs=True, backoff=1.0):
        self.timeout = timeout
        self.retries = retries
        self.validate_certs = validate_certs
        self.backoff = backoff
        self.bytes_fetched = 0
        self._opener = None

    def _open(self, url, headers=None):
        if self._opener is None:
            # one TLS context for the run: building one per request reloads the CA bundle every time. Plain
            # urllib (proxies from the environment, redirects, no decompression): ansible.module_utils.urls
            # adds nothing a GET needs here and costs a fifth of a second of imports on every run
            context = ssl.create_default_context()
            if not self.validate_certs:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        request = urllib.request.Request(url, headers=dict(headers or {}, **{"User-Agent": USER_AGENT}))
        return self._opener.open(request, timeout=self.timeout)

    def _retrying(self, url, attempt_fn):
        """Run ``attempt_fn()`` until it succeeds, retrying transient failures with backoff."""
        for attempt in range(self.retries + 1):
            try:
                return attempt_fn()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise MissingError(url)
                if exc.code not in TRANSIENT_STATUS or attempt == self.retries:
                    raise FetchError("fetching %s failed: HTTP %d %s%s" % (url, exc.code, exc.reason, _tries(attempt)),
                                     url=url, status=exc.code)
            except (socket.timeout, TimeoutError) as exc:
                if attempt == self.retries:
                    raise FetchError("fetching %s timed out after %ss%s; raise timeout or check the mirror"
                                     % (url, self.timeout, _tries(attempt)), url=url)
            except (urllib.error.URLError, _Transient, ConnectionError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ssl.SSLCertVerificationError):
                    # not transient: retrying cannot make the certificate trusted
                    raise FetchError("TLS verification of %s failed: %s; add the mirror's CA to the system trust "
                                     "store (or point SSL_CERT_FILE at a bundle holding it), or validate_certs=false "
                                     "for a lab only" % (url, reason.verify_message or reason), url=url)
                if isinstance(reason, socket.timeout):
                    reason = "timed out after %ss" % self.timeout
                if attempt == self.retries:
                    raise FetchError("fetching %s failed: %s%s" % (url, reason, _tries(attempt)), url=url)
            time.sleep(min(self.backoff * (2 ** attempt), 30))
        raise AssertionError("unreachable")

    def get_bytes(self, url):
        """A small document (metadata, signature, key) in memory."""
        def attempt():
            resp = self._open(url)
            body = resp.read()
            length = resp.headers.get("Content-Length")
            if length is not None and len(body) != int(length):
                raise _Transient("connection closed after %d of %s bytes" % (len(body), length))
            self.bytes_fetched += len(body)
            return body
        return self._retrying(url, attempt)

    def download(self, url, part_path, sink_factory, free_bytes):
        """Fetch ``url`` into ``part_path``, resuming what is there with Range; return the final sink.

        ``sink_factory()`` makes an object with ``update(chunk)`` and ``close()`` that sees every byte of
        the file in order (hashes and the streamed signature check); bytes already in ``part_path`` are
        fed to it first. ``free_bytes()`` returns the space left for the check before writing.
        """
        state = {"sink": sink_factory(), "fed": 0}

        def catch_up(size):
            if state["fed"] < size:
                with open(part_path, "rb") as handle:
                    handle.seek(state["fed"])
                    _pump(handle, state, size)

        def restart():
            state["sink"].close()
            state["sink"], state["fed"] = sink_factory(), 0
            open(part_path, "wb").close()

        def attempt():
            have = os.path.getsize(part_path) if os.path.exists(part_path) else 0
            catch_up(have)
            try:
                resp = self._open(url, {"Range": "bytes=%d-" % have} if have else None)
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and have and _total_from_range(exc.headers.get("Content-Range")) == have:
                    return
                if exc.code == 416:
                    restart()
                    raise _Transient("the mirror refused to resume %s" % url)
                raise
            status = resp.getcode()
            if have and status == 200:
                restart()  # the mirror ignored Range: start again from byte 0
                have = 0
            elif status == 206 and _start_from_range(resp.headers.get("Content-Range")) != have:
                restart()
                raise _Transient("the mirror answered Range with a different offset")
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            if total is not None and total - have > free_bytes():
                raise NetbootError("not enough space for %s: it needs %d more bytes, %d are free"
                                   % (os.path.basename(part_path)[:-5], total - have, free_bytes()),
                                   errno="ENOSPC")
            with open(part_path, "ab") as out:
                writer = ChunkWorker(FileWriter(out, have).write)
                try:
                    _pump(resp, state, None, writer, self)
                finally:
                    writer.finish()
                if writer.error:
                    raise writer.error
            if total is not None and state["fed"] < total:
                raise _Transient("connection closed after %d of %d bytes" % (state["fed"], total))

        try:
            self._retrying(url, attempt)
        except BaseException:
            state["sink"].close()
            raise
        return state["sink"]


def _pump(source, state, limit, writer=None, client=None):
    """Copy from ``source`` (file or response) to ``state["sink"]`` (and the file ``writer``) in blocks.

    ``state["fed"]`` counts the bytes the sink has seen, chunk by chunk, so that it stays exact when the
    source fails halfway (a reset or a timeout) and the next attempt resumes from there; ``limit`` is the
    value it stops at (None: the end of ``source``).
    """
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while limit is None or state["fed"] < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - state["fed"])
        count = source.readinto(view[:want])
        if not count:
            break
        chunk = bytes(view[:count])  # one copy, shared by the consumers; the buffer is reused
        if writer is not None:
            if writer.error:
                break
            writer.chunks.put(chunk)
            client.bytes_fetched += count
        state["sink"].update(chunk)
        state["fed"] += count


def _tries(attempt):
    return " (after %d attempts)" % (attempt + 1) if attempt else ""


def _start_from_range(header):
    match = re.match(r"bytes (\d+)-", header or "")
    return int(match.group(1)) if match else -1


def _total_from_range(header):
    match = re.match(r"bytes [^/]*/(\d+)", header or "")
    return int(match.group(1)) if match else -1


# -- release metadata -------------------------------------------------------------------------------------

def validate(distro, channel, arch, version, base_url, artifacts):
    """Check the options that need no network; return the artifact list to sync."""
    spec = DISTROS[distro]
    if channel not in spec["channels"]:
        raise ValidationError("unknown channel '%s' for %s; valid: %s" % (channel, distro, ", ".join(spec["channels"])))
    if arch not in ARCHES:
        raise ValidationError("unknown arch '%s'; valid: %s" % (arch, ", ".join(sorted(ARCHES))))
    if not re.match(r"^(current|[0-9][0-9A-Za-z.+_-]*)$", version or ""):
        raise ValidationError("invalid version '%s': use 'current' or a release number such as 3975.2.0" % version)
    if distro == "coreos" and version == "current":
        raise ValidationError("legacy CoreOS needs an explicit version (e.g. 1122.2.0): its release servers are "
                              "gone, so 'current' cannot be resolved")
    if distro == "coreos" and not base_url:
        raise ValidationError("legacy CoreOS needs base_url: the URL of your mirror (the directory that holds "
                              "%s-usr/)" % ARCHES[arch][0])
    if base_url and not re.match(r"^https?://[^/?#]+", base_url):
        raise ValidationError("base_url '%s' is not an http:// or https:// URL of a release mirror (the module "
                              "downloads over HTTP only)" % base_url)
    wanted = list(artifacts or spec["artifacts"])
    for key in wanted:
        if distro == "fedora-coreos" and key not in ARTIFACT_KEYS:
            raise ValidationError("unknown artifact '%s' for fedora-coreos; valid: %s" % (key, ", ".join(ARTIFACT_KEYS)))
        if distro != "fedora-coreos" and key == "rootfs":
            raise ValidationError("artifact 'rootfs' exists only for fedora-coreos; %s's initramfs holds its root "
                                  "filesystem" % distro)
        if "/" in key or key.startswith("."):
            raise ValidationError("invalid artifact '%s': use kernel, initramfs, image or a file name" % key)
    return wanted


def release_base(distro, channel, arch, base_url):
    spec = DISTROS[distro]
    base = (base_url or spec["base_url"]).rstrip("/").replace("{channel}", channel)
    if distro == "fedora-coreos":
        return base
    return "%s/%s-usr" % (base, ARCHES[arch][0])


def resolve_version(client, distro, channel, arch, version, base_url):
    """The concrete version: ``version`` itself, or the channel's current release from its metadata."""
    if version != "current":
        return version
    base = release_base(distro, channel, arch, base_url)
    if distro == "fedora-coreos":
        stream = _stream_json(client, base, channel)
        return _fcos_arch(stream, arch, channel)["artifacts"]["metal"]["release"]
    url = "%s/current/version.txt" % base
    try:
        text = client.get_bytes(url).decode("utf-8", "replace")
    except MissingError:
        raise NetbootError("channel '%s' is missing on the mirror: %s answered 404; mirror the channel (its "
                           "current/version.txt) or pick a channel the mirror holds" % (channel, url), url=url)
    match = re.search(r"^%s=(\S+)$" % DISTROS[distro]["version_var"], text, re.M)
    if not match:
        raise NetbootError("%s has no %s= line" % (url, DISTROS[distro]["version_var"]))
    return match.group(1)


def resolve_artifacts(client, distro, channel, arch, version, base_url, wanted):
    """The release's Artifact list for ``wanted`` keys, from its metadata; fails before any download."""
    base = release_base(distro, channel, arch, base_url)
    if distro == "fedora-coreos":
        return _fcos_artifacts(client, base, channel, arch, version, wanted)
    release_url = "%s/%s" % (base, version)
    try:
        client.get_bytes(release_url + "/version.txt")
    except MissingError:
        raise NotFoundError("%s version" % distro, version, ["current", "a version the mirror holds"],
                            where="%s (no version.txt on the mirror)" % release_url)
    files = DISTROS[distro]["files"]
    found = []
    for key in wanted:
        name = files.get(key, key)
        url = "%s/%s" % (release_url, name)
        found.append(Artifact(key, name, url, url + ".sig", "sha512", digests_url=url + ".DIGESTS"))
    return found


def _stream_json(client, base, stream):
    url = "%s/streams/%s.json" % (base, stream)
    try:
        return json.loads(client.get_bytes(url).decode("utf-8"))
    except MissingError:
        raise NetbootError("stream '%s' is missing on the mirror: %s answered 404; copy upstream's "
                           "streams/%s.json to the mirror or pick a stream the mirror holds" % (stream, url, stream),
                           url=url)
    except ValueError as exc:
        raise NetbootError("%s is not valid JSON: %s" % (url, exc))


def _fcos_arch(stream, arch, channel):
    arches = stream.get("architectures", {})
    entry = arches.get(ARCHES[arch][1])
    if entry is None:
        raise NotFoundError("architecture", ARCHES[arch][1], arches, where="stream %s" % channel)
    return entry


def _fcos_artifacts(client, base, stream, arch, version, wanted):
    """Fedora CoreOS files: from the stream JSON when it names ``version``, else from the build's meta.json."""
    entry = _fcos_arch(_stream_json(client, base, stream), arch, stream)
    metal = entry.get("artifacts", {}).get("metal", {})
    # the build's directory on this mirror: a verbatim copy of upstream's stream JSON names upstream's host
    build_url = "%s/prod/streams/%s/builds/%s/%s" % (base, stream, version, ARCHES[arch][1])
    if metal.get("release") == version:
        formats = metal.get("formats", {})
        table = {}
        for key, item in dict(formats.get("pxe", {}), image=formats.get("raw.xz", {}).get("disk")).items():
            if item:
                location = "%s/%s" % (build_url, item["location"].rstrip("/").rsplit("/", 1)[-1])
                table[key] = {"location": location, "signature": location + ".sig", "sha256": item["sha256"]}
        where = "stream %s" % stream
    else:
        try:
            meta = json.loads(client.get_bytes(build_url + "/meta.json").decode("utf-8"))
        except MissingError:
            raise NotFoundError("fedora-coreos version", version, [metal.get("release", "?")],
                                where="stream %s (no %s/meta.json)" % (stream, build_url))
        images = meta.get("images", {})
        table = {}
        for key, image in FCOS_IMAGES.items():
            if image in images:
                location = "%s/%s" % (build_url, images[image]["path"])
                table[key] = {"location": location, "signature": location + ".sig", "sha256": images[image]["sha256"]}
        where = "build %s" % version
    found = []
    for key in wanted:
        item = table.get(key)
        if not item:
            raise NetbootError("%s of %s has no %s file%s; pick another version" % (
                where, version, key, " (the release has no PXE files)" if key in PXE_KEYS else ""),
                version=version, missing=key)
        name = item["location"].rstrip("/").rsplit("/", 1)[-1]
        found.append(Artifact(key, name, item["location"], item["signature"], "sha256", digest=item["sha256"]))
    return found


def free_space(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize
