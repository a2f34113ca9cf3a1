"""Validate Ignition documents with the real Ignition's validator (the test oracle) and report what they carry.

Usage: check_ignition.py < {"name": "<document text>", ...}
Prints {"name": {"valid": bool, "error": str, "version": str, "hostname": str, "ssh_keys": [...], "files": [...],
"units": [...]}}. Runs on the controller, where Debian's ignition package gives /usr/bin/ignition-validate
(make deps), independent of the collection.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
from urllib.parse import unquote

IGNITION_VALIDATE = "/usr/bin/ignition-validate"


def data_url_text(url):
    head, payload = url.split(",", 1)
    return base64.b64decode(payload).decode() if head.endswith(";base64") else unquote(payload)


def findings(text):
    """ignition-validate's report on ``text`` (empty when it is clean)."""
    with tempfile.NamedTemporaryFile("w", suffix=".ign", delete=False) as handle:
        handle.write(text)
    try:
        proc = subprocess.run([IGNITION_VALIDATE, handle.name], capture_output=True, text=True, check=False)
    finally:
        os.unlink(handle.name)
    report = (proc.stdout + proc.stderr).strip()
    return report or ("exit status %d" % proc.returncode if proc.returncode else "")


def summary(text):
    document = json.loads(text)
    error = findings(text)
    files = {f["path"]: f for f in document.get("storage", {}).get("files", [])}
    hostname = files.get("/etc/hostname", {}).get("contents", {}).get("source")
    return {
        "valid": not error,
        "error": error,
        "version": document.get("ignition", {}).get("version"),
        "hostname": data_url_text(hostname).strip() if hostname else None,
        "ssh_keys": [k for u in document.get("passwd", {}).get("users", []) for k in u.get("sshAuthorizedKeys", [])],
        "files": sorted(files),
        "sources": {p: f.get("contents", {}).get("source") for p, f in files.items()},
        "units": {u["name"]: u.get("contents", "") for u in document.get("systemd", {}).get("units", [])},
    }


def main():
    if not os.path.exists(IGNITION_VALIDATE):
        sys.exit("%s is missing: install Debian's ignition package (make deps)" % IGNITION_VALIDATE)
    documents = json.load(sys.stdin)
    json.dump({name: summary(text) for name, text in documents.items()}, sys.stdout)


if __name__ == "__main__":
    main()
