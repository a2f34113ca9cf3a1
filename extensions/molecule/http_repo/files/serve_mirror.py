"""Serve a signed fixture Flatcar release (with the VMware OEM image) on 127.0.0.1 inside the test container.

Usage: serve_mirror.py ROOT PORT VERSION. Writes ROOT/mirror.json (base_url, gpg_key, gpg_fingerprint, version)
once the release is laid out, then serves until SIGTERM. release_mirror.py (tests/fixtures) sits next to it.
"""

import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from release_mirror import ReleaseMirror  # noqa: E402  pylint: disable=wrong-import-position


def main(root, port, version):
    mirror = ReleaseMirror(root, port=int(port))
    base_url = mirror.add_flatcar(version, extra_files=["flatcar_production_vmware_raw_image.bin.bz2"])
    settings = {"base_url": base_url, "gpg_key": mirror.key_path, "gpg_fingerprint": mirror.key.fingerprint,
                "version": version}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mirror.start()
    with open(os.path.join(root, "mirror.json"), "w") as handle:
        json.dump(settings, handle)
    stop.wait()
    mirror.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
