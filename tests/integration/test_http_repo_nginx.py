"""The http_repo role's nginx server block: rendered by Ansible, checked by its validate wrapper, served by nginx.

Uses the host's nginx on a loopback port (no root-owned paths: pid, logs and temp dirs live in tmp_path).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import REPO, run_playbook  # pylint: disable=import-error

ROLE = os.path.join(REPO, "roles", "http_repo")
CHECK = os.path.join(ROLE, "files", "netboot-nginx-check")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="needs nginx (make deps installs nginx-light)")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_server_block(tmp_path, **overrides):
    """The role's template rendered by ansible.builtin.template with the role's defaults plus overrides."""
    dest = tmp_path / "netboot-coreos.conf"
    playbook = tmp_path / "render.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  vars_files: [%s]\n  tasks:\n"
        "    - ansible.builtin.template:\n        src: %s\n        dest: %s\n        mode: '0644'\n"
        % (os.path.join(ROLE, "defaults", "main.yml"), os.path.join(ROLE, "templates", "netboot-coreos.conf.j2"), dest))
    extra = {"ansible_python_interpreter": sys.executable, "netboot_base_url": "http://127.0.0.1/coreos"}
    extra.update(overrides)
    run = run_playbook(str(playbook), extra_vars=extra)
    assert run.rc == 0, run.failure_messages() or run.stderr
    return dest


def check(path):
    return subprocess.run(["sh", CHECK, str(path)], capture_output=True, text=True, check=False)


def self_signed(tmp_path):
    cert, key = tmp_path / "repo.crt", tmp_path / "repo.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=repo",
                    "-keyout", str(key), "-out", str(cert)], capture_output=True, check=True)
    return str(cert), str(key)


def test_validate_wrapper_accepts_the_rendered_block_and_rejects_broken_ones(tmp_path):
    block = render_server_block(tmp_path, http_repo_root=str(tmp_path / "root"))
    result = check(block)
    assert result.returncode == 0, result.stderr
    broken = tmp_path / "broken.conf"
    broken.write_text(block.read_text().replace("sendfile on;", "sendfile maybe;"))
    result = check(broken)
    assert result.returncode != 0 and "sendfile" in result.stderr
    missing = render_server_block(tmp_path, http_repo_tls_certificate="/nonexistent/repo.crt",
                                  http_repo_tls_certificate_key="/nonexistent/repo.key")
    result = check(missing)
    assert result.returncode != 0 and "/nonexistent/repo.crt" in result.stderr


def test_nginx_serves_the_repository_with_the_right_types(tmp_path):
    root = tmp_path / "root"
    (root / "nodes" / "00-50-56-00-00-21").mkdir(parents=True)
    (root / "3975.2.0").mkdir()
    (root / "boot.ipxe").write_text("#!ipxe\n")
    (root / "nodes" / "00-50-56-00-00-21" / "node.ign").write_text(json.dumps({"ignition": {"version": "3.4.0"}}))
    (root / "3975.2.0" / "flatcar_production_pxe.vmlinuz").write_bytes(b"\x00" * 4096)
    (root / "3975.2.0" / ".manifest.json").write_text("{}")
    port, tls_port = free_port(), free_port()
    cert, key = self_signed(tmp_path)
    block = render_server_block(tmp_path, http_repo_root=str(root), http_repo_port=port, http_repo_tls_port=tls_port,
                                http_repo_tls_certificate=cert, http_repo_tls_certificate_key=key)
    assert check(block).returncode == 0
    main = tmp_path / "nginx.conf"
    # workers run as root here: pytest's tmp directories are private to root
    main.write_text("user root;\npid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n"
                    "  client_body_temp_path %s;\n  include /etc/nginx/mime.types;\n  include %s;\n}\n"
                    % (tmp_path, tmp_path, block))
    proc = subprocess.Popen([NGINX, "-c", str(main), "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        base = "http://127.0.0.1:%d/coreos" % port
        for _attempt in range(50):
            try:
                urllib.request.urlopen(base + "/boot.ipxe", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        types = {}
        for path in ("boot.ipxe", "nodes/00-50-56-00-00-21/node.ign", "3975.2.0/flatcar_production_pxe.vmlinuz"):
            with urllib.request.urlopen("%s/%s" % (base, path), timeout=5) as response:
                types[path] = response.headers["Content-Type"]
        assert types == {"boot.ipxe": "text/plain", "nodes/00-50-56-00-00-21/node.ign": "application/vnd.coreos.ignition+json",
                         "3975.2.0/flatcar_production_pxe.vmlinuz": "application/octet-stream"}
        with pytest.raises(urllib.error.HTTPError) as hidden:
            urllib.request.urlopen(base + "/3975.2.0/.manifest.json", timeout=5)
        assert hidden.value.code == 403
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % tls_port, "-servername", "repo"],
                             input="", capture_output=True, text=True, timeout=20, check=False)
        assert "subject=CN = repo" in out.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("typed,on", [("false", False), ("no", False), ("true", True), ("yes", True)])
def test_flags_typed_on_the_command_line_mean_what_they_say(tmp_path, typed, on):
    """``-e http_repo_autoindex=false`` is the string 'false': the server block must follow its meaning."""
    text = render_server_block(tmp_path, http_repo_root=str(tmp_path / "root"), http_repo_autoindex=typed,
                               http_repo_default_server=typed).read_text()
    assert ("autoindex on;" if on else "autoindex off;") in text
    assert ("listen 80 default_server;" if on else "listen 80;") in text
