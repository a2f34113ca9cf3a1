# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image repository on disk: ``<dest>/<version>/`` directories, their manifests, ``current``, pruning.

A run checks everything it can before it writes anything: the options, then the release metadata (version,
file names, digests, signatures, the signing key) read from the mirror; only then does it create ``<dest>``
and take its lock. A version directory appears only complete: files download into ``<dest>/.staging/<version>/`` (where an
interrupted download stays, to resume with Range), are verified while they stream, and move into place
once every one of them verified; then ``<dest>/current`` switches (a symlink renamed over the old one).
A manifest per version (name, size, mtime, digest) lets a rerun confirm the version without re-hashing.
"""

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.release import (
    DISTROS, PXE_KEYS, HttpClient, MissingError, free_space, resolve_artifacts, resolve_version, validate)
from ansible_collections.netboot.coreos.plugins.module_utils.release_verify import (
    Keyring, StreamCheck, VerificationError, check_digest, file_digest, parse_digests)

MANIFEST = ".manifest.json"
STAGING = ".staging"
KEYS = ".keys"
CURRENT = "current"


def version_key(version):
    """Sort key that orders 3975.2.0 < 3975.10.0 and 40.20240416.3.1 < 41.20241027.3.0."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.+_-]", version)]


def read_manifest(version_dir):
    try:
        with open(os.path.join(version_dir, MANIFEST)) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def managed_versions(dest):
    """Version directories this module made (they hold a manifest), oldest first."""
    try:
        names = os.listdir(dest)
    except OSError:
        return []
    found = [n for n in names if not n.startswith(".") and n != CURRENT
             and os.path.isfile(os.path.join(dest, n, MANIFEST))]
    return sorted(found, key=version_key)


def current_target(dest):
    link = os.path.join(dest, CURRENT)
    if os.path.islink(link):
        return os.readlink(link).rstrip("/")
    if os.path.lexists(link):
        raise NetbootError("%s exists and is not a symlink; move it away so the current pointer can be managed" % link)
    return None


def _stat_matches(path, record):
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_size == record["size"] and st.st_mtime_ns == record["mtime_ns"]


def present_entries(version_dir, manifest, wanted, verify, full):
    """The manifest entries of ``wanted`` whose files are intact (stat, or re-hashed when ``full``)."""
    entries = (manifest or {}).get("files", {})
    intact = {}
    for key in wanted:
        entry = entries.get(key)
        if not entry or (verify and not entry.get("verified")):
            continue
        path = os.path.join(version_dir, entry["name"])
        if not _stat_matches(path, entry):
            continue
        signature = entry.get("signature")
        if signature and not _stat_matches(os.path.join(version_dir, signature["name"]), signature):
            continue
        if full and file_digest(path, entry["algo"]) != entry["digest"]:
            continue
        intact[key] = entry
    return intact


def prune_plan(versions, keep, protected):
    """Versions to remove, oldest first, so that ``keep`` remain; never one in ``protected``."""
    if not keep:
        return []
    doomed = []
    remaining = len(versions)
    for version in versions:
        if remaining <= keep:
            break
        if version in protected:
            continue
        doomed.append(version)
        remaining -= 1
    return doomed


def _check_dest(dest):
    if os.path.lexists(dest) and not os.path.isdir(dest):
        raise NetbootError("dest %s is not a directory" % dest)
    parent = os.path.dirname(dest)
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise NetbootError("dest %s is not writable: Not a directory (%s is a file)" % (dest, parent), path=dest)


def _lock_dest(dest):
    """Create ``dest`` and hold its lock (one sync at a time): the open lock file."""
    try:
        os.makedirs(os.path.join(dest, STAGING), exist_ok=True)
        lock = open(os.path.join(dest, STAGING, ".lock"), "w")
    except (IOError, OSError) as exc:
        raise NetbootError("dest %s is not writable: %s" % (dest, exc.strerror or exc), path=dest)
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
    return lock


def fetch_flatcar_digest(client, keyring, artifact):
    """The SHA-512 of a Flatcar/CoreOS file from its ``.DIGESTS`` (the clearsigned ``.asc`` when verifying)."""
    url = artifact.digests_url + (".asc" if keyring else "")
    try:
        raw = client.get_bytes(url)
    except MissingError:
        raise NetbootError("release %s has no %s%s: %s is missing; pick another version" % (
            url.rsplit("/", 2)[-2], artifact.name, " (the release has no PXE files)" if artifact.key in PXE_KEYS else "",
            url), missing=artifact.name)
    text = keyring.clearsigned_text(raw, artifact.name + ".DIGESTS.asc") if keyring else raw.decode("utf-8", "replace")
    return parse_digests(text, artifact.name)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, path)


class RepoSync:
    """One run of the module: plan, then (unless checking) fetch, verify, commit, switch, prune."""

    def __init__(self, params, check_mode=False):
        self.p = params
        self.check_mode = check_mode
        self.dest = os.path.abspath(params["dest"])
        self.wanted = validate(params["distro"], params["channel"], params["arch"], params["version"],
                               params["base_url"], params["artifacts"])
        for name, low in (("keep", 1), ("timeout", 1), ("retries", 0)):
            if params[name] is not None and params[name] < low:
                raise ValidationError("invalid %s %d: it must be %d or more" % (name, params[name], low))
        spec = DISTROS[params["distro"]]
        self.gpg_key = params["gpg_key"] or spec["gpg_key"]
        self.fingerprint = params["gpg_fingerprint"] or spec["fingerprint"]
        if params["verify"] and not self.gpg_key:
            raise NetbootError("%s has no official key URL any more: set gpg_key (a path or URL of its image "
                               "signing key) or verify=false" % params["distro"])
        if params["verify"] and not re.match(r"^https?://[^/?#]+", self.gpg_key) and not os.path.isfile(self.gpg_key):
            raise ValidationError("gpg_key %s is neither an http(s) URL nor a file on this host; give the path or "
                                  "URL of the distro's image signing key" % self.gpg_key)
        _check_dest(self.dest)
        self.client = HttpClient(timeout=params["timeout"], retries=params["retries"],
                                 validate_certs=params["validate_certs"], backoff=params.get("backoff", 1.0))
        self.warnings = []

    def run(self):
        with contextlib.ExitStack() as stack:
            plan = self._plan(stack)
            if self.check_mode:
                return self._result(plan, {})
            lock = _lock_dest(self.dest)
            try:
                return self._apply(plan)
            finally:
                lock.close()

    def _plan(self, stack):
        """Everything that can be known before writing: version, files to fetch with their digests and
        signatures, the versions to prune. Reads the mirror, writes nothing."""
        p = self.p
        plan = {"before_current": current_target(self.dest), "before_versions": managed_versions(self.dest),
                "keyring": None}
        version = resolve_version(self.client, p["distro"], p["channel"], p["arch"], p["version"], p["base_url"])
        if not re.match(r"^[0-9][0-9A-Za-z.+_-]*$", version):
            raise NetbootError("the release metadata names version '%s', which is not a valid directory name" % version)
        plan["version"], plan["version_dir"] = version, os.path.join(self.dest, version)
        missing = self._missing(plan)
        artifacts = resolve_artifacts(self.client, p["distro"], p["channel"], p["arch"], version, p["base_url"],
                                      missing) if missing else []
        if artifacts and p["verify"]:
            plan["keyring"] = stack.enter_context(self._keyring())
        for artifact in artifacts:
            self._fetch_metadata(artifact, plan["keyring"])
        plan["artifacts"] = artifacts
        return plan

    def _missing(self, plan):
        """The wanted artifacts that ``<dest>/<version>`` lacks (or holds damaged), as of now."""
        plan["manifest"] = read_manifest(plan["version_dir"]) or {}
        intact = present_entries(plan["version_dir"], plan["manifest"], self.wanted, self.p["verify"],
                                 self.p["verify_existing"] == "full")
        return [k for k in self.wanted if k not in intact]

    def _apply(self, plan):
        """Under the lock: fetch what is still missing (another run may have installed it meanwhile), install,
        switch current, prune."""
        plan["before_current"], plan["before_versions"] = current_target(self.dest), managed_versions(self.dest)
        still_missing = self._missing(plan)
        plan["artifacts"] = [a for a in plan["artifacts"] if a.key in still_missing]
        if plan["keyring"]:
            plan["keyring"].save_cache()
        fetched = {}
        if plan["artifacts"]:
            fetched = self._fetch_all(plan["version"], plan["artifacts"], plan["keyring"])
            plan["manifest"] = self._commit(plan["version"], plan["version_dir"], plan["manifest"], fetched)
        changed, result = self._result(plan, fetched)
        if result["current"] != plan["before_current"]:
            self._switch_current(plan["version"])
        for old in result["pruned"]:
            shutil.rmtree(os.path.join(self.dest, old))
            shutil.rmtree(os.path.join(self.dest, STAGING, old), ignore_errors=True)  # its abandoned downloads
        return changed, result

    def _result(self, plan, fetched):
        p, version, artifacts = self.p, plan["version"], plan["artifacts"]
        before_current, before_versions = plan["before_current"], plan["before_versions"]
        after_current = version if p["set_current"] else before_current
        after_versions = sorted(set(before_versions) | {version}, key=version_key)
        pruned = prune_plan(after_versions, p["keep"], {version, after_current})
        after_versions = [v for v in after_versions if v not in pruned]
        files = self._files_result(plan["manifest"], artifacts, fetched)
        changed = bool(artifacts) or after_current != before_current or bool(pruned)
        if not p["verify"] and artifacts:
            self.warnings.append("verify=false: the signatures of the fetched files were not checked")
        result = dict(
            version=version, path=plan["version_dir"], current=after_current,
            artifacts=dict((f["key"], f["name"]) for f in files),
            files=files, bytes_fetched=self.client.bytes_fetched, pruned=pruned,
            fetched=[a.name for a in artifacts], warnings=self.warnings,
            diff=dict(before=dict(current=before_current, versions=before_versions),
                      after=dict(current=after_current, versions=after_versions)))
        return changed, result

    # -- fetch and verify ------------------------------------------------------------------------------

    def _keyring(self):
        cache = None
        if re.match(r"^https?://", self.gpg_key):
            tag = hashlib.sha256(self.gpg_key.encode("utf-8")).hexdigest()[:12]
            cache = os.path.join(self.dest, KEYS, "%s-%s.asc" % (self.p["distro"], tag))
        return Keyring(self.gpg_key, self.fingerprint, self.client.get_bytes, cache)

    def _fetch_metadata(self, artifact, keyring):
        """The file's expected digest (verified ``.DIGESTS.asc`` for Flatcar/CoreOS) and its signature bytes."""
        if artifact.digests_url:
            artifact.digest = fetch_flatcar_digest(self.client, keyring, artifact)
        if keyring:
            try:
                artifact.signature = self.client.get_bytes(artifact.sig_url)
            except MissingError:
                raise VerificationError("missing signature for %s: %s is not on the mirror"
                                        % (artifact.name, artifact.sig_url))

    def _fetch_all(self, version, artifacts, keyring):
        staging = os.path.join(self.dest, STAGING, version)
        try:
            os.makedirs(staging, exist_ok=True)
            return dict((a.key, self._fetch_one(a, staging, keyring)) for a in artifacts)
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOSPC:
                shutil.rmtree(staging, ignore_errors=True)
                raise NetbootError("disk full while downloading %s into %s; nothing was installed: free space "
                                   "and rerun" % (version, self.dest), errno="ENOSPC")
            raise NetbootError("cannot write into %s: %s" % (staging, exc.strerror or exc), path=staging)

    def _fetch_one(self, artifact, staging, keyring):
        part = os.path.join(staging, artifact.name + ".part")
        sig_path = os.path.join(staging, artifact.name + ".sig")
        if keyring:
            with open(sig_path, "wb") as handle:
                handle.write(artifact.signature)
        elif os.path.exists(sig_path):
            os.unlink(sig_path)
        sink = self.client.download(artifact.url, part, lambda: StreamCheck(artifact.algo, keyring, sig_path),
                                    lambda: free_space(staging))
        digest = sink.hexdigest()
        try:
            if artifact.digest:
                check_digest(artifact.name, artifact.algo, artifact.digest, digest)
            if keyring:
                keyring.finish_stream(sink, sig_path, part, artifact.name)
        except NetbootError:
            sink.close()
            os.unlink(part)  # verified bad: do not resume from it
            raise
        return dict(key=artifact.key, name=artifact.name, algo=artifact.algo, digest=digest,
                    verified=bool(keyring), signature=artifact.name + ".sig" if keyring else None)

    # -- commit ------------------------------------------------------------------------------------------

    def _commit(self, version, version_dir, manifest, fetched):
        """Move the verified files into place (the whole directory when new) and record them."""
        staging = os.path.join(self.dest, STAGING, version)
        new_dir = not os.path.isdir(version_dir)
        target = staging if new_dir else version_dir
        for item in fetched.values():
            part = os.path.join(staging, item["name"] + ".part")
            with open(part, "rb+") as handle:
                os.fsync(handle.fileno())
            os.rename(part, os.path.join(target, item["name"]))
            if item["signature"] and not new_dir:
                os.rename(os.path.join(staging, item["signature"]), os.path.join(target, item["signature"]))
        files = dict(manifest.get("files", {}))
        for key, item in fetched.items():
            entry = dict(item)
            st = os.stat(os.path.join(target, item["name"]))
            entry.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
            if item["signature"]:
                st = os.stat(os.path.join(target, item["signature"]))
                entry["signature"] = dict(name=item["signature"], size=st.st_size, mtime_ns=st.st_mtime_ns)
            files[key] = entry
        manifest = dict(distro=self.p["distro"], version=version, arch=self.p["arch"], files=files)
        _write_json_atomic(os.path.join(target, MANIFEST), manifest)
        _fsync_dir(target)
        if new_dir:
            for name in os.listdir(staging):
                if name.endswith(".part"):
                    os.unlink(os.path.join(staging, name))  # a leftover of an artifact no longer wanted
            os.rename(staging, version_dir)
        else:
            shutil.rmtree(staging, ignore_errors=True)
        _fsync_dir(self.dest)
        return manifest

    def _switch_current(self, version):
        link = os.path.join(self.dest, CURRENT)
        tmp = os.path.join(self.dest, ".%s.%d" % (CURRENT, os.getpid()))
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(version, tmp)
        os.rename(tmp, link)

    def _files_result(self, manifest, artifacts, fetched):
        entries = manifest.get("files", {})
        pending = dict((a.key, a) for a in artifacts)
        files = []
        for key in self.wanted:
            entry = entries.get(key)
            if entry and key not in pending or key in fetched:
                files.append(dict([("key", key), ("name", entry["name"]), ("size", entry["size"]),
                                   (entry["algo"], entry["digest"]), ("verified", entry["verified"]),
                                   ("fetched", key in fetched)]))
            else:  # check mode: what would be fetched
                files.append(dict(key=key, name=pending[key].name, size=None, verified=False, fetched=True))
        return files


def sync_release(params, check_mode=False):
    """The module's work: ``(changed, result)``."""
    return RepoSync(params, check_mode).run()
