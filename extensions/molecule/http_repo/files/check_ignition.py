"""Validate Ignition documents against an upstream JSON schema (the test oracle) and report what they carry.

Usage: check_ignition.py SCHEMA < {"name": "<document text>", ...}
Prints {"name": {"valid": bool, "error": str, "version": str, "hostname": str, "ssh_keys": [...], "files": [...],
"units": [...]}}. Runs with the controller's Python (jsonschema from the venv), independent of the collection.
"""

import base64
import json
import sys
from urllib.parse import unquote

import jsonschema


def data_url_text(url):
    head, payload = url.split(",", 1)
    return base64.b64decode(payload).decode() if head.endswith(";base64") else unquote(payload)


def summary(text, validator):
    document = json.loads(text)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    files = {f["path"]: f for f in document.get("storage", {}).get("files", [])}
    hostname = files.get("/etc/hostname", {}).get("contents", {}).get("source")
    return {
        "valid": not errors,
        "error": "; ".join("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in errors),
        "version": document.get("ignition", {}).get("version"),
        "hostname": data_url_text(hostname).strip() if hostname else None,
        "ssh_keys": [k for u in document.get("passwd", {}).get("users", []) for k in u.get("sshAuthorizedKeys", [])],
        "files": sorted(files),
        "sources": {p: f.get("contents", {}).get("source") for p, f in files.items()},
        "units": {u["name"]: u.get("contents", "") for u in document.get("systemd", {}).get("units", [])},
    }


def main(schema_path):
    with open(schema_path) as handle:
        validator = jsonschema.Draft4Validator(json.load(handle))
    documents = json.load(sys.stdin)
    json.dump({name: summary(text, validator) for name, text in documents.items()}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
