"""Offline stand-in for ansible-test's cached get-pip script (its download host is unreachable here).

ansible-test runs ``python get_pip_24_2.py <pip requirement>``: bootstrap pip from the interpreter's own
ensurepip (in a subprocess: in-process ensurepip drops /etc/pip.conf's settings), then install the pip
version asked for from the configured package index.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}  # get-pip's own flags; pip install does not know them

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + [a for a in sys.argv[1:] if a not in GET_PIP_ONLY])
