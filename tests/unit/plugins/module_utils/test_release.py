"""The release-mirror client (release.py): metadata per distro and resumable, retried downloads."""

import hashlib
import http.server
import os
import re
import ssl
import threading
import time

import pytest
from test_pki import TestPKI

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, NotFoundError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.release import (
    FetchError, FileWriter, HttpClient, MissingError, resolve_artifacts, resolve_version, validate)
from ansible_collections.netboot.coreos.plugins.module_utils.release_verify import StreamCheck

IMAGE = "flatcar_production_image.bin.bz2"


def client(retries=2, timeout=5):
    return HttpClient(timeout=timeout, retries=retries, backoff=0.01)


def release_file(mirror, version, name):
    return os.path.join(mirror.root, "flatcar", "stable", "amd64-usr", version, name)


def download(mirror, http, url, part):
    sink = http.download(url, part, lambda: StreamCheck("sha512"), lambda: 1 << 40)
    return sink.hexdigest()


def sha512_of(path):
    with open(path, "rb") as handle:
        return hashlib.sha512(handle.read()).hexdigest()


# -- metadata ---------------------------------------------------------------------------------------------

def test_flatcar_current_resolves_through_version_txt(release_mirror):
    base = release_mirror.add_flatcar("3975.2.0")
    release_mirror.add_flatcar("3975.2.1")
    assert resolve_version(client(), "flatcar", "stable", "amd64", "current", base) == "3975.2.1"
    assert resolve_version(client(), "flatcar", "stable", "amd64", "3975.2.0", base) == "3975.2.0"


def test_base_url_channel_placeholder(release_mirror):
    release_mirror.add_flatcar("3975.2.0", channel="beta")
    base = release_mirror.url + "/flatcar/{channel}"
    assert resolve_version(client(), "flatcar", "beta", "amd64", "current", base) == "3975.2.0"
    with pytest.raises(NetbootError, match="channel 'stable' is missing on the mirror: .*/flatcar/stable/"
                       "amd64-usr/current/version.txt answered 404"):
        resolve_version(client(), "flatcar", "stable", "amd64", "current", base)


def test_unknown_version_is_named(release_mirror):
    base = release_mirror.add_flatcar("3975.2.0")
    with pytest.raises(NotFoundError, match="flatcar version '9999.0.0' not found"):
        resolve_artifacts(client(), "flatcar", "stable", "amd64", "9999.0.0", base, ["kernel"])


def test_flatcar_artifacts_use_the_release_server_names(release_mirror):
    base = release_mirror.add_flatcar("3975.2.0")
    found = resolve_artifacts(client(), "flatcar", "stable", "x86_64", "3975.2.0", base,
                              ["kernel", "initramfs", "image", "flatcar_production_vmware_raw_image.bin.bz2"])
    assert [a.name for a in found] == ["flatcar_production_pxe.vmlinuz", "flatcar_production_pxe_image.cpio.gz",
                                       IMAGE, "flatcar_production_vmware_raw_image.bin.bz2"]
    assert found[2].url == base + "/amd64-usr/3975.2.0/" + IMAGE
    assert found[2].sig_url == found[2].url + ".sig" and found[2].digests_url == found[2].url + ".DIGESTS"


@pytest.mark.parametrize("args, message", [
    (("flatcar", "edge", "amd64", "current", None, None), "unknown channel 'edge' for flatcar; valid: stable, beta"),
    (("fedora-coreos", "lts", "amd64", "current", None, None), "unknown channel 'lts' for fedora-coreos; valid: stable, testing, next"),
    (("flatcar", "stable", "s390x", "current", None, None), "unknown arch 's390x'"),
    (("flatcar", "stable", "amd64", "../etc", None, None), "invalid version '../etc'"),
    (("coreos", "stable", "amd64", "current", "http://m", None), "legacy CoreOS needs an explicit version"),
    (("coreos", "stable", "amd64", "1122.2.0", None, None), "legacy CoreOS needs base_url"),
    (("flatcar", "stable", "amd64", "current", None, ["rootfs"]), "artifact 'rootfs' exists only for fedora-coreos"),
    (("fedora-coreos", "stable", "amd64", "current", None, ["vmlinuz"]), "unknown artifact 'vmlinuz' for fedora-coreos"),
    (("flatcar", "stable", "amd64", "current", None, ["../x"]), "invalid artifact '../x'"),
])
def test_validation_names_the_bad_value_and_the_valid_ones(args, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        validate(*args)


def test_fcos_current_and_older_builds_come_from_metadata(release_mirror):
    release_mirror.add_fcos("40.20240416.3.1", current=False)
    base = release_mirror.add_fcos("41.20241027.3.0")
    assert resolve_version(client(), "fedora-coreos", "stable", "amd64", "current", base) == "41.20241027.3.0"
    wanted = ["kernel", "initramfs", "rootfs", "image"]
    current = resolve_artifacts(client(), "fedora-coreos", "stable", "amd64", "41.20241027.3.0", base, wanted)
    older = resolve_artifacts(client(), "fedora-coreos", "stable", "amd64", "40.20240416.3.1", base, wanted)
    assert current[0].name == "fedora-coreos-41.20241027.3.0-live-kernel.x86_64"
    assert older[3].name == "fedora-coreos-40.20240416.3.1-metal.x86_64.raw.xz"
    build = os.path.join(release_mirror.root, "fcos", "prod", "streams", "stable", "builds", "40.20240416.3.1",
                         "x86_64")
    assert older[3].digest == hashlib.sha256(open(os.path.join(build, older[3].name), "rb").read()).hexdigest()
    assert all(a.algo == "sha256" and a.sig_url == a.url + ".sig" for a in current + older)
    with pytest.raises(NotFoundError, match="fedora-coreos version '39.0' not found in stream stable"):
        resolve_artifacts(client(), "fedora-coreos", "stable", "amd64", "39.0", base, wanted)
    with pytest.raises(NetbootError, match="stream 'next' is missing on the mirror: .*/fcos/streams/next.json "
                       "answered 404; copy upstream's streams/next.json to the mirror"):
        resolve_version(client(), "fedora-coreos", "next", "amd64", "current", base)
    with pytest.raises(NotFoundError, match="architecture 'aarch64' not found in stream stable; available: x86_64"):
        resolve_version(client(), "fedora-coreos", "stable", "arm64", "current", base)


def test_fcos_release_without_pxe_files_is_refused(release_mirror):
    base = release_mirror.add_fcos("41.20241027.3.0", pxe=False)
    with pytest.raises(Exception, match="has no kernel file \\(the release has no PXE files\\)"):
        resolve_artifacts(client(), "fedora-coreos", "stable", "amd64", "41.20241027.3.0", base, ["kernel"])


# -- downloads --------------------------------------------------------------------------------------------

def test_dropped_connection_resumes_with_range(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0", sizes={"image": 3 * 1024 * 1024})
    url = base + "/amd64-usr/3975.2.0/" + IMAGE
    path = "/flatcar/stable/amd64-usr/3975.2.0/" + IMAGE
    release_mirror.fault(path, "drop")
    part = str(tmp_path / "image.part")
    digest = download(release_mirror, client(), url, part)
    gets = release_mirror.requested(IMAGE)
    assert [g["status"] for g in gets] == [200, 206]
    assert gets[1]["range"] == "bytes=%d-" % (3 * 1024 * 1024 // 2)
    assert digest == sha512_of(release_file(release_mirror, "3975.2.0", IMAGE)) == sha512_of(part)


def test_stalled_transfer_times_out_and_resumes_without_hashing_twice(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0", sizes={"image": 3 * 1024 * 1024})
    release_mirror.fault("/flatcar/stable/amd64-usr/3975.2.0/" + IMAGE, "stall", delay=3)
    part = str(tmp_path / "image.part")
    digest = download(release_mirror, client(retries=1, timeout=1), base + "/amd64-usr/3975.2.0/" + IMAGE, part)
    gets = release_mirror.requested(IMAGE)
    assert [g["status"] for g in gets] == [200, 206]
    resumed_at = int(gets[1]["range"][len("bytes="):-1])
    assert 0 < resumed_at <= 3 * 1024 * 1024 // 2, "resumes after the bytes it kept, not from 0"
    assert digest == sha512_of(release_file(release_mirror, "3975.2.0", IMAGE)) == sha512_of(part)


def test_partial_file_from_an_earlier_run_is_resumed_and_hashed_whole(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    original = release_file(release_mirror, "3975.2.0", IMAGE)
    part = str(tmp_path / "image.part")
    with open(original, "rb") as src, open(part, "wb") as out:
        out.write(src.read(1000))
    http = client()
    digest = download(release_mirror, http, base + "/amd64-usr/3975.2.0/" + IMAGE, part)
    assert release_mirror.requested(IMAGE)[0]["range"] == "bytes=1000-"
    assert digest == sha512_of(original)
    assert http.bytes_fetched == os.path.getsize(original) - 1000


def test_complete_partial_file_needs_no_body(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    original = release_file(release_mirror, "3975.2.0", IMAGE)
    part = str(tmp_path / "image.part")
    with open(original, "rb") as src, open(part, "wb") as out:
        out.write(src.read())
    assert download(release_mirror, client(), base + "/amd64-usr/3975.2.0/" + IMAGE, part) == sha512_of(original)
    assert [g["status"] for g in release_mirror.requested(IMAGE)] == [416]


def test_mirror_ignoring_range_restarts_from_zero(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    original = release_file(release_mirror, "3975.2.0", IMAGE)
    part = str(tmp_path / "image.part")
    with open(part, "wb") as out:
        out.write(b"stale bytes from another file")
    release_mirror.fault("/flatcar/stable/amd64-usr/3975.2.0/" + IMAGE, "no_range")
    assert download(release_mirror, client(), base + "/amd64-usr/3975.2.0/" + IMAGE, part) == sha512_of(original)
    assert sha512_of(part) == sha512_of(original)


def test_server_error_is_retried(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    release_mirror.fault("/flatcar/stable/amd64-usr/3975.2.0/" + IMAGE, "error", times=2, status=503)
    part = str(tmp_path / "image.part")
    download(release_mirror, client(retries=2), base + "/amd64-usr/3975.2.0/" + IMAGE, part)
    assert [g["status"] for g in release_mirror.requested(IMAGE)] == [503, 503, 200]


def test_persistent_server_error_fails_after_the_retries(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    release_mirror.fault("/flatcar/stable/amd64-usr/3975.2.0/version.txt", "error", times=5)
    with pytest.raises(FetchError, match=r"fetching .*/version.txt failed: HTTP 500 .*\(after 2 attempts\)"):
        client(retries=1).get_bytes(base + "/amd64-usr/3975.2.0/version.txt")


def test_not_found_is_not_retried(release_mirror):
    base = release_mirror.add_flatcar("3975.2.0")
    with pytest.raises(MissingError, match="nothing.txt not found on the mirror"):
        client(retries=3).get_bytes(base + "/nothing.txt")
    assert len(release_mirror.requested("nothing.txt")) == 1


def test_slow_mirror_times_out(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    release_mirror.fault("/flatcar/stable/amd64-usr/3975.2.0/" + IMAGE, "slow", delay=3)
    with pytest.raises(FetchError, match="timed out after 1s"):
        download(release_mirror, client(retries=0, timeout=1), base + "/amd64-usr/3975.2.0/" + IMAGE,
                 str(tmp_path / "image.part"))


def test_download_refuses_what_does_not_fit(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    part = str(tmp_path / "image.part")
    with pytest.raises(Exception, match="not enough space for image: it needs 262144 more bytes, 1000 are free"):
        client().download(base + "/amd64-usr/3975.2.0/" + IMAGE, part, lambda: StreamCheck("sha512"), lambda: 1000)
    assert not os.path.exists(part) or os.path.getsize(part) == 0, "nothing written when it cannot fit"


def test_early_writeback_keeps_the_file_intact(release_mirror, tmp_path, monkeypatch):
    base = release_mirror.add_flatcar("3975.2.0", sizes={"image": 3 * 1024 * 1024 + 123})
    monkeypatch.setattr(FileWriter, "WRITEBACK_EVERY", 1024 * 1024)
    part = str(tmp_path / "image.part")
    digest = download(release_mirror, client(), base + "/amd64-usr/3975.2.0/" + IMAGE, part)
    assert digest == sha512_of(release_file(release_mirror, "3975.2.0", IMAGE)) == sha512_of(part)


def test_fcos_files_come_from_base_url_even_with_upstreams_stream_json(release_mirror):
    """A verbatim copy of upstream's stream JSON names upstream's host; the files still come from base_url."""
    base = release_mirror.add_fcos("41.20241027.3.0", upstream_locations=True)
    found = resolve_artifacts(client(), "fedora-coreos", "stable", "amd64", "41.20241027.3.0", base,
                              ["kernel", "initramfs", "rootfs", "image"])
    build = base + "/prod/streams/stable/builds/41.20241027.3.0/x86_64/"
    assert [a.url for a in found] == [build + a.name for a in found]
    assert all(a.sig_url == a.url + ".sig" for a in found)


@pytest.mark.parametrize("base_url", ["ftp://mirror.example.com/flatcar", "mirror.example.com", "file:///srv/x"])
def test_base_url_must_be_http(base_url):
    with pytest.raises(ValidationError, match="base_url '%s' is not an http:// or https:// URL" % base_url):
        validate("flatcar", "stable", "amd64", "current", base_url, None)


# -- TLS and headers (a loopback HTTPS server with the test PKI's certificate) -----------------------------

class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with ``body``, remembering each request's headers."""

    body = b"COREOS_VERSION=1.2.3\n"
    seen = []

    def do_GET(self):  # pylint: disable=invalid-name
        self.seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(name="https_mirror")
def fixture_https_mirror(tmp_path):
    pki = TestPKI(tmp_path / "pki", names=("localhost",), addresses=("127.0.0.1",))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_crt, pki.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d/version.txt" % server.server_address[1], pki
    server.shutdown()
    server.server_close()


def test_untrusted_mirror_certificate_fails_at_once_with_the_fix(https_mirror, monkeypatch):
    url, _pki = https_mirror
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    http_client = HttpClient(timeout=5, retries=3, backoff=5)  # a retry would sleep 5 s
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"TLS verification of %s failed: (unable to get local issuer certificate|self.signed)"
                       % re.escape(url)) as caught:
        http_client.get_bytes(url)
    assert time.monotonic() - started < 4, "a certificate failure is not transient and is not retried"
    assert "SSL_CERT_FILE" in str(caught.value) and "validate_certs=false" in str(caught.value)
    assert _Recorder.seen == []


def test_mirror_ca_from_ssl_cert_file_is_trusted(https_mirror, monkeypatch):
    url, pki = https_mirror
    monkeypatch.setenv("SSL_CERT_FILE", pki.ca_crt)
    assert client().get_bytes(url) == _Recorder.body
    assert _Recorder.seen[0]["User-Agent"] == "netboot.coreos-repo-sync"
    # the bytes as stored: the digests and signatures are of those
    assert _Recorder.seen[0].get("Accept-Encoding", "identity") == "identity"


def test_validate_certs_false_accepts_the_untrusted_certificate(https_mirror, monkeypatch):
    url, _pki = https_mirror
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert HttpClient(timeout=5, retries=0, validate_certs=False).get_bytes(url) == _Recorder.body
