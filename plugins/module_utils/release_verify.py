# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification of release artifacts: digests and detached OpenPGP signatures.

Signatures are checked by ``gpgv`` (GnuPG's verify-only tool) against a keyring that holds only the
distro's signing key: no GNUPGHOME, no gpg-agent, no trust database, and the keyring is an unnamed
temporary file passed to gpgv as ``/dev/fd/N``, so a run that is killed leaves no process and no directory
behind. The key's packets are read here (fingerprints, signing subkeys, their expiry) to pin the primary key
and to say which key signed when it is not the expected one. A signature counts only when gpgv reports it
valid and made by the pinned primary key (or one of its subkeys). The key comes from a path or a URL; a URL's
key is cached in the repository, and when a signature names a key the cached copy lacks, the key is fetched
again once (signing subkeys rotate yearly) before the verification fails.
"""

import base64
import hashlib
import os
import re
import subprocess
import tempfile
import time

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError
from ansible_collections.netboot.coreos.plugins.module_utils.release import ChunkWorker

GPGV_COMMAND = "gpgv"
_ARMOR_RE = re.compile(r"-----BEGIN PGP PUBLIC KEY BLOCK-----\n(.*?)-----END PGP PUBLIC KEY BLOCK-----", re.S)
# self-signatures that carry a key's flags and expiry: on a user id / the key itself, and a subkey binding
_PRIMARY_SELF_SIGS = (0x10, 0x11, 0x12, 0x13, 0x1F)
_SUBKEY_BINDING, _KEY_REVOCATION, _SUBKEY_REVOCATION = 0x18, 0x20, 0x28
_CAN_SIGN = 0x02


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


def _dearmor(data):
    """The binary OpenPGP packets of a key file, armoured (one or more blocks) or binary already."""
    if data[:1] and data[0] & 0x80:
        return data
    packets = b""
    for block in _ARMOR_RE.findall(data.decode("ascii", "replace").replace("\r\n", "\n")):
        lines = block.split("\n")
        body = lines[lines.index("") + 1:] if "" in lines else lines  # armour headers end at an empty line
        packets += base64.b64decode("".join(line for line in body if line and not line.startswith("=")))
    return packets


def _packets(data):
    """``(tag, body)`` of each OpenPGP packet (RFC 4880 section 4.2, old and new headers)."""
    pos = 0
    while pos < len(data):
        head = data[pos]
        if not head & 0x80:
            raise ValueError("byte %d is not an OpenPGP packet header" % pos)
        if head & 0x40:
            tag, first = head & 0x3F, data[pos + 1]
            if first < 192:
                length, pos = first, pos + 2
            elif first < 224:
                length, pos = ((first - 192) << 8) + data[pos + 2] + 192, pos + 3
            elif first == 255:
                length, pos = int.from_bytes(data[pos + 2:pos + 6], "big"), pos + 6
            else:
                raise ValueError("partial body lengths do not occur in keys")
        else:
            tag, kind = (head >> 2) & 0x0F, head & 3
            if kind == 3:
                length, pos = len(data) - pos - 1, pos + 1
            else:
                size = (1, 2, 4)[kind]
                length, pos = int.from_bytes(data[pos + 1:pos + 1 + size], "big"), pos + 1 + size
        if pos + length > len(data):
            raise ValueError("truncated packet")
        yield tag, data[pos:pos + length]
        pos += length


def _subpackets(area):
    pos = 0
    while pos < len(area):
        first = area[pos]
        if first < 192:
            length, pos = first, pos + 1
        elif first < 255:
            length, pos = ((first - 192) << 8) + area[pos + 1] + 192, pos + 2
        else:
            length, pos = int.from_bytes(area[pos + 1:pos + 5], "big"), pos + 5
        yield area[pos] & 0x7F, area[pos + 1:pos + length]
        pos += length


def _self_signature(body):
    """Type, creation time, key expiry (seconds after the key's creation, 0 never) and key flags of a v4 signature."""
    if len(body) < 6 or body[0] != 4:
        return None
    hashed = body[6:6 + int.from_bytes(body[4:6], "big")]
    info = {"type": body[1], "created": 0, "expires_after": 0, "flags": None}
    for kind, data in _subpackets(hashed):
        if kind == 2:
            info["created"] = int.from_bytes(data[:4], "big")
        elif kind == 9:
            info["expires_after"] = int.from_bytes(data[:4], "big")
        elif kind == 27:
            info["flags"] = data[0] if data else 0
    return info


class PublicKey:
    """A v4 primary key or subkey read from a key file: fingerprint, creation, expiry, signing capability."""

    def __init__(self, body, primary=None):
        self.fingerprint = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
        self.primary = primary or self.fingerprint
        self.created = int.from_bytes(body[1:5], "big")
        self.expires = None
        self.can_sign = True
        self.revoked = False
        self._latest = -1

    def apply(self, signature):
        if signature["type"] in (_KEY_REVOCATION, _SUBKEY_REVOCATION):
            self.revoked = True
        elif signature["created"] >= self._latest:  # the newest self-signature wins
            self._latest = signature["created"]
            self.expires = self.created + signature["expires_after"] if signature["expires_after"] else None
            self.can_sign = signature["flags"] is None or bool(signature["flags"] & _CAN_SIGN)


def read_keys(data):
    """The v4 keys (primaries and subkeys, in file order) of an OpenPGP key file; ValueError when it holds none."""
    keys, primary, current = [], None, None
    for tag, body in _packets(_dearmor(data)):
        if tag in (6, 14) and body[:1] == b"\x04":
            current = PublicKey(body, None if tag == 6 else primary.fingerprint if primary else None)
            if tag == 6:
                primary = current
            keys.append(current)
        elif tag in (6, 14):
            current = None  # another key version: not used for release signatures
        elif tag == 2 and current is not None:
            signature = _self_signature(body)
            wanted = _PRIMARY_SELF_SIGS + (_KEY_REVOCATION,) if current is primary else (_SUBKEY_BINDING, _SUBKEY_REVOCATION)
            if signature and signature["type"] in wanted:
                current.apply(signature)
    if not any(k.primary == k.fingerprint for k in keys):
        raise ValueError("no OpenPGP v4 public key")
    return keys


def _day(timestamp):
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


class SignatureStatus:
    """What ``gpgv --status-fd`` said about one signature."""

    def __init__(self, status_text):
        self.lines = [line[9:].split() for line in status_text.splitlines() if line.startswith("[GNUPG:] ")]
        self.good = self._has("GOODSIG") or self._has("EXPKEYSIG")
        self.bad = self._has("BADSIG") or self._has("REVKEYSIG") or self._has("EXPSIG")
        valid = self._first("VALIDSIG")
        self.signer = valid[1] if valid else None
        self.primary = valid[-1] if valid else None
        missing = self._first("ERRSIG") or self._first("NO_PUBKEY")
        self.missing_key = missing[1] if missing and not self.good else None
        # ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc> [<fpr>]: when and by which key it was signed
        self.signed_at = int(missing[5]) if missing and missing[0] == "ERRSIG" and len(missing) > 5 else None
        self.missing_fingerprint = (missing[7] if missing and missing[0] == "ERRSIG" and len(missing) > 7
                                    and missing[7] != "-" else None)

    def _first(self, keyword):
        for fields in self.lines:
            if fields[0] == keyword:
                return fields
        return None

    def _has(self, keyword):
        return self._first(keyword) is not None


class Keyring:
    """The distro's signing key as a gpgv keyring in an unnamed temporary file; use as a context manager.

    ``source`` is a file path or an http(s) URL; ``fetch(url)`` returns a URL's bytes. ``fingerprint``
    (the primary key's, upper-case hex) pins the key; None accepts any key the source holds. A URL's key
    is cached as ``cache_path`` by ``save_cache()`` (the caller decides when it may write).
    """

    def __init__(self, source, fingerprint, fetch, cache_path=None):
        self.source = source
        self.fingerprint = fingerprint.replace(" ", "").upper() if fingerprint else None
        self.fetch = fetch
        self.cache_path = cache_path
        self.is_url = bool(re.match(r"^https?://", source))
        self.refetched = False
        self.key_fetches = 0
        self.keys = []
        self.file = None
        self._uncached = None  # a key fetched from the URL and not yet written to cache_path
        self._cache_allowed = False

    def __enter__(self):
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
        if self.file is not None:
            self.file.close()
            self.file = None

    def _gpgv_command(self, args):
        return [GPGV_COMMAND, "--status-fd", "1", "--keyring", "/dev/fd/%d" % self.file.fileno()] + args

    def _gpgv(self, args, stdin=None, data_path=None, pass_fds=()):
        cmd = self._gpgv_command(args)
        fds = (self.file.fileno(),) + tuple(pass_fds)
        try:
            if data_path:
                with open(data_path, "rb") as handle:
                    return subprocess.run(cmd, stdin=handle, capture_output=True, check=False, pass_fds=fds)
            return subprocess.run(cmd, input=stdin, capture_output=True, check=False, pass_fds=fds)
        except OSError as exc:
            raise NetbootError("cannot run %s (%s): install GnuPG's gpgv on the repository host" % (GPGV_COMMAND, exc))

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
        try:
            keys = read_keys(key)
        except (ValueError, IndexError) as exc:
            raise VerificationError("gpg_key %s holds no OpenPGP public key (%s)" % (self.source, exc))
        primaries = [k.fingerprint for k in keys if k.primary == k.fingerprint]
        if self.fingerprint and self.fingerprint not in primaries:
            raise VerificationError(
                "gpg_key %s has primary key %s, not the pinned %s; use the distro's official key or set "
                "gpg_fingerprint to the key you trust" % (self.source, ", ".join(primaries), self.fingerprint),
                fingerprints=primaries)
        keyring = tempfile.TemporaryFile()  # unnamed: nothing to clean up when the run is killed
        keyring.write(_dearmor(key))
        keyring.flush()
        if self.file is not None:
            self.file.close()
        self.file, self.keys = keyring, keys
        if self.is_url:
            self._uncached = key
            if self._cache_allowed:
                self.save_cache()

    def save_cache(self):
        """Write the key fetched from the URL to ``cache_path`` now and after any later refetch."""
        self._cache_allowed = True
        if self._uncached is not None and self.cache_path:
            _write_atomic(self.cache_path, self._uncached)
        self._uncached = None

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
                    "signature on %s was made by key %s of primary key %s, not by the pinned key %s"
                    % (what, status.signer, status.primary, self.fingerprint), file=what)
            return status
        if status.missing_key:
            return status
        if status.bad:
            raise VerificationError("bad signature on %s: the file does not match its signature (nothing was "
                                    "installed)" % what, file=what)
        raise VerificationError("no valid signature on %s: %s" % (what, _stderr(proc) or "gpgv found none"),
                                file=what)

    def _unknown_signer(self, status, what):
        """The error for a signature by a key the keyring lacks: which key signed, which were expected."""
        signing = [k for k in self.keys if k.can_sign and not k.revoked
                   and (self.fingerprint is None or k.primary == self.fingerprint)]
        # releases are signed by subkeys (rotated yearly); a primary key only when it has none
        expected = [k for k in signing if k.primary != k.fingerprint] or signing
        signer = status.missing_fingerprint or status.missing_key
        msg = ("signature on %s was made by key %s, which gpg_key %s does not contain%s; expected a signature by %s"
               % (what, signer, self.source, " (even after fetching it again)" if self.refetched else "",
                  ", ".join(k.fingerprint[-16:] + (" (expired %s)" % _day(k.expires) if k.expires else "")
                            for k in expected) or "a signing key"))
        newest = max([k.expires or float("inf") for k in expected] or [float("inf")])
        if status.signed_at and newest < status.signed_at:
            # a real rotation: every signing key we hold had expired when the file was signed
            msg += ("; every signing subkey of that key had expired by %s and the file was signed on %s: the "
                    "distro has rotated its signing subkey, point gpg_key at the current key"
                    % (_day(newest), _day(status.signed_at)))
        else:
            msg += "; the file is signed by another key than the distro's: check the mirror and gpg_key"
        return VerificationError(msg, file=what, key_id=status.missing_key)

    def _with_refetch(self, run, what):
        status = self._judge(run(), what)
        if status.missing_key and self._refetch():
            status = self._judge(run(), what)
        if status.missing_key:
            raise self._unknown_signer(status, what)
        return status

    def verify_file(self, sig_path, data_path, what):
        """Check the detached signature ``sig_path`` over the file ``data_path``."""
        return self._with_refetch(lambda: self._gpgv([sig_path, "-"], data_path=data_path), what)

    def clearsigned_text(self, armored, what):
        """Verify a clearsigned document (a ``.DIGESTS.asc``) and return the text it signs (gpgv's output)."""
        with tempfile.TemporaryFile() as text:  # unnamed, like the keyring; gpgv writes it as /dev/fd/N

            def run():
                text.seek(0)
                text.truncate()
                return self._gpgv(["--output", "/dev/fd/%d" % text.fileno(), "-"], stdin=armored,
                                  pass_fds=(text.fileno(),))
            self._with_refetch(run, what)
            text.seek(0)
            return text.read().decode("utf-8", "replace")

    def start_stream(self, sig_path):
        """A gpgv process reading the signed data from its stdin, fed while the file downloads."""
        return subprocess.Popen(self._gpgv_command([sig_path, "-"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, bufsize=0, pass_fds=(self.file.fileno(),))

    def finish_stream(self, sink, sig_path, data_path, what):
        """Collect the streamed verification of ``sink`` (a StreamCheck); on a missing subkey, refetch the key
        and check the file on disk."""
        sink.hexdigest()  # every byte reached gpgv and its stdin is closed
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
    """Write ``data`` to ``path`` through a temporary file in the same directory, renamed over it."""
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
