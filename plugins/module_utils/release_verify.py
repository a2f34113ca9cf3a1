# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification of release artifacts: digests and detached GPG signatures.

GPG runs as ``gpg --verify`` in a private, temporary GNUPGHOME holding only the distro's signing key, so
the user's keyrings and trust settings play no part. A signature counts only when gpg reports it valid
and made by the pinned primary key (or one of its subkeys). The key comes from a path or a URL; a URL's
key is cached in the repository, and when a signature names a subkey the cached key lacks, the key is
fetched again once (signing subkeys rotate yearly) before the verification fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError
from ansible_collections.netboot.coreos.plugins.module_utils.release import ChunkWorker

GPG_COMMAND = "gpg"


class VerificationError(NetbootError):
    """An artifact or its metadata failed a digest or signature check."""


def parse_digests(text, name):
    """The SHA-512 hex digest of ``name`` from a Flatcar/CoreOS ``.DIGESTS`` text (``# SHA512 HASH`` section)."""
    section = None
    for line in text.splitlines():
        line = line.strip()
        header = re.match(r"^#\s*(\S+)\s+HASH$", line)
        if header:
            section = header.group(1).upper()
            continue
        parts = line.split()
        if section == "SHA512" and len(parts) == 2 and parts[1].lstrip("*") == name:
            return parts[0].lower()
    raise VerificationError("no SHA512 digest for %s in its DIGESTS file" % name, file=name)


def file_digest(path, algo, block=1024 * 1024):
    """Hex digest of a file, read in blocks (memory stays flat)."""
    hasher = hashlib.new(algo)
    buf = bytearray(block)
    view = memoryview(buf)
    with open(path, "rb") as handle:
        while True:
            count = handle.readinto(buf)
            if not count:
                break
            hasher.update(view[:count])
    return hasher.hexdigest()


def check_digest(name, algo, expected, actual):
    if expected.lower() != actual.lower():
        raise VerificationError(
            "digest mismatch for %s: %s %s expected from the release metadata, got %s; the mirror serves a "
            "corrupted or tampered file (nothing was installed)" % (name, algo, expected, actual),
            file=name, expected=expected, actual=actual)


class SignatureStatus:
    """What ``gpg --status-fd`` said about one signature."""

    def __init__(self, status_text):
        self.lines = [line[9:].split() for line in status_text.splitlines() if line.startswith("[GNUPG:] ")]
        self.good = self._has("GOODSIG") or self._has("EXPKEYSIG")
        self.bad = self._has("BADSIG") or self._has("REVKEYSIG") or self._has("EXPSIG")
        valid = self._first("VALIDSIG")
        self.signer = valid[1] if valid else None
        self.primary = valid[-1] if valid else None
        missing = self._first("NO_PUBKEY") or self._first("ERRSIG")
        self.missing_key = missing[1] if missing and not self.good else None

    def _first(self, keyword):
        for fields in self.lines:
            if fields[0] == keyword:
                return fields
        return None

    def _has(self, keyword):
        return self._first(keyword) is not None


class Keyring:
    """The distro's signing key in a private temporary GNUPGHOME; use as a context manager.

    ``source`` is a file path or an http(s) URL; ``fetch(url)`` returns a URL's bytes. ``fingerprint``
    (the primary key's, upper-case hex) pins the key; None accepts any key the source holds. A URL's key
    is cached as ``cache_path`` (not written when ``cache_path`` is None, as in check mode).
    """

    def __init__(self, source, fingerprint, fetch, cache_path=None):
        self.source = source
        self.fingerprint = fingerprint.replace(" ", "").upper() if fingerprint else None
        self.fetch = fetch
        self.cache_path = cache_path
        self.is_url = bool(re.match(r"^https?://", source))
        self.refetched = False
        self.key_fetches = 0
        self.home = None

    def __enter__(self):
        self.home = tempfile.mkdtemp(prefix="netboot-gpg-")
        os.chmod(self.home, 0o700)
        key = None
        if self.is_url and self.cache_path and os.path.exists(self.cache_path):
            with open(self.cache_path, "rb") as handle:
                key = handle.read()
        try:
            self._import(key if key is not None else self._load_source())
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.home, ignore_errors=True)

    def _gpg(self, args, stdin=None, data_path=None):
        cmd = [GPG_COMMAND, "--homedir", self.home, "--batch", "--no-tty", "--status-fd", "1",
               "--no-auto-key-retrieve", "--no-auto-check-trustdb"] + args
        try:
            if data_path:
                with open(data_path, "rb") as handle:
                    proc = subprocess.run(cmd, stdin=handle, capture_output=True, check=False)
            else:
                proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
        except OSError as exc:
            raise NetbootError("cannot run %s (%s): install GnuPG on the repository host" % (GPG_COMMAND, exc))
        return proc

    def _load_source(self):
        if self.is_url:
            self.key_fetches += 1
            return self.fetch(self.source)
        try:
            with open(self.source, "rb") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            raise NetbootError("cannot read gpg_key %s: %s" % (self.source, exc.strerror or exc))

    def _import(self, key):
        primaries = self._primary_fingerprints(key)
        if not primaries:
            raise VerificationError("gpg_key %s holds no OpenPGP public key" % self.source)
        if self.fingerprint and self.fingerprint not in primaries:
            raise VerificationError(
                "gpg_key %s has primary key %s, not the pinned %s; use the distro's official key or set "
                "gpg_fingerprint to the key you trust" % (self.source, ", ".join(primaries), self.fingerprint),
                fingerprints=primaries)
        proc = self._gpg(["--import"], stdin=key)
        if proc.returncode:
            raise VerificationError("gpg could not import gpg_key %s: %s" % (self.source, _stderr(proc)))
        if self.is_url and self.cache_path:
            _write_atomic(self.cache_path, key)

    def _primary_fingerprints(self, key):
        proc = self._gpg(["--with-colons", "--import-options", "show-only", "--import"], stdin=key)
        found, after_pub = [], False
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if fields[0] == "pub":
                after_pub = True
            elif fields[0] == "fpr" and after_pub:
                found.append(fields[9].upper())
                after_pub = False
            elif fields[0] == "sub":
                after_pub = False
        return found

    def _refetch(self):
        """Fetch a URL key again once (its subkeys may have rotated); False when that cannot help."""
        if not self.is_url or self.refetched:
            return False
        self.refetched = True
        self._import(self._load_source())
        return True

    def _judge(self, proc, what):
        status = SignatureStatus(proc.stdout.decode("utf-8", "replace"))
        if status.good and not status.bad and status.signer:
            if self.fingerprint and status.primary != self.fingerprint:
                raise VerificationError(
                    "signature on %s was made by key %s, not by the pinned key %s"
                    % (what, status.primary, self.fingerprint), file=what)
            return status
        if status.missing_key:
            return status
        if status.bad:
            raise VerificationError("bad signature on %s: the file does not match its signature (nothing was "
                                    "installed)" % what, file=what)
        raise VerificationError("no valid signature on %s: %s" % (what, _stderr(proc) or "gpg found none"),
                                file=what)

    def _with_refetch(self, run, what):
        status = self._judge(run(), what)
        if status.missing_key and self._refetch():
            status = self._judge(run(), what)
        if status.missing_key:
            raise VerificationError(
                "signature on %s was made by key %s, which gpg_key %s does not contain%s; the distro's signing "
                "subkey has rotated: point gpg_key at the current key"
                % (what, status.missing_key, self.source,
                   " (even after fetching it again)" if self.refetched else ""),
                file=what, key_id=status.missing_key)
        return status

    def verify_file(self, sig_path, data_path, what):
        """Check the detached signature ``sig_path`` over the file ``data_path``."""
        return self._with_refetch(lambda: self._gpg(["--verify", sig_path, "-"], data_path=data_path), what)

    def clearsigned_text(self, armored, what):
        """Verify a clearsigned document (a ``.DIGESTS.asc``) and return the text it signs."""
        with tempfile.NamedTemporaryFile(dir=self.home, delete=False) as out:
            out_path = out.name
        try:
            self._with_refetch(lambda: self._gpg(["--yes", "--output", out_path, "--decrypt"], stdin=armored), what)
            with open(out_path, "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        finally:
            os.unlink(out_path)

    def start_stream(self, sig_path):
        """A gpg --verify process reading the signed data from its stdin, fed while the file downloads."""
        cmd = [GPG_COMMAND, "--homedir", self.home, "--batch", "--no-tty", "--status-fd", "1",
               "--no-auto-key-retrieve", "--no-auto-check-trustdb", "--verify", sig_path, "-"]
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)

    def finish_stream(self, sink, sig_path, data_path, what):
        """Collect the streamed verification of ``sink`` (a StreamCheck); on a missing subkey, refetch the key
        and check the file on disk."""
        sink.hexdigest()  # every byte reached gpg and its stdin is closed
        proc, sink.proc = sink.proc, None
        out, err = proc.communicate()
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        status = self._judge(result, what)
        if status.missing_key:
            return self.verify_file(sig_path, data_path, what)
        return status


class StreamCheck:
    """Sees a file's bytes once, while it downloads: hashes them and feeds a streamed gpg --verify."""

    def __init__(self, algo, keyring=None, sig_path=None):
        self.hasher = hashlib.new(algo)
        self.proc = keyring.start_stream(sig_path) if keyring else None
        self.consumers = [ChunkWorker(self.hasher.update)]
        if self.proc is not None:
            self.consumers.append(ChunkWorker(self.proc.stdin.write))

    def update(self, chunk):
        """Queue ``chunk`` (bytes, not reused by the caller) for the hash and gpg."""
        for consumer in self.consumers:
            consumer.chunks.put(chunk)

    def hexdigest(self):
        """The digest, once every queued chunk is consumed (gpg's stdin is closed then)."""
        for consumer in self.consumers:
            consumer.finish()
        self.consumers = []
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except (IOError, OSError):
                pass  # gpg stopped reading (a malformed signature): its status says why
            self.proc.stdin = None
        return self.hasher.hexdigest()

    def close(self):
        """Abandon the check (the download restarts or failed)."""
        if self.proc is not None:
            self.proc.kill()
        self.hexdigest()
        if self.proc is not None:
            self.proc.communicate()
            self.proc = None


def _stderr(proc):
    text = proc.stderr.decode("utf-8", "replace").strip()
    return " ".join(line.strip() for line in text.splitlines()[-2:])


def _write_atomic(path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
