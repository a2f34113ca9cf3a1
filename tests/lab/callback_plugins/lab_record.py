"""Ansible callback of the embedded lab: what each play did, as JSON, beside the normal output.

Enabled by tests/lab/lab.py (ANSIBLE_CALLBACKS_ENABLED=lab_record); writes $LAB_RECORD on exit:
{"plays": [{"name", "seconds", "ok", "changed", "failed", "changed_tasks": ["<host>: <task>"]}],
 "node_plan": [...]}  (node_plan: the coreos_node_plan fact the node_plan role computed, when it ran).
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: lab_record
type: aggregate
short_description: record per-play counts and times of the netboot.coreos lab
description: Writes per-play ok/changed/failed counts, times and the node plan to the file in $LAB_RECORD.
requirements: [enabled in ANSIBLE_CALLBACKS_ENABLED]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lab_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.plays, self.play, self.started, self.node_plan = [], None, 0.0, None

    def _close_play(self):
        if self.play is not None:
            self.play["seconds"] = round(time.monotonic() - self.started, 2)
            self.plays.append(self.play)
        self.play = None

    def v2_playbook_on_play_start(self, play):
        self._close_play()
        self.play = {"name": play.get_name(), "ok": 0, "changed": 0, "failed": 0, "changed_tasks": []}
        self.started = time.monotonic()

    def v2_runner_on_ok(self, result):
        # pylint: disable=protected-access
        self.play["ok"] += 1
        if result._result.get("changed"):
            self.play["changed"] += 1
            self.play["changed_tasks"].append("%s: %s" % (result._host.get_name(), result._task.get_name()))
        facts = result._result.get("ansible_facts") or {}
        if "coreos_node_plan" in facts:
            self.node_plan = facts["coreos_node_plan"]

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self.play["failed"] += 1

    def v2_runner_on_unreachable(self, result):
        self.play["failed"] += 1

    def v2_playbook_on_stats(self, stats):
        self._close_play()
        path = os.environ.get("LAB_RECORD")
        if path:
            with open(path, "w") as handle:
                json.dump({"plays": self.plays, "node_plan": self.node_plan}, handle, indent=1)
