# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vCenter client: one pyVmomi session per module run, bulk reads, lookups with actionable errors.

No AnsibleModule in here: modules build a VCenterClient from their params (``VCenterClient.from_params``)
and use it as a context manager so the session is logged out whatever happens.
"""

import hashlib
import http.client as http_client
import socket
import ssl
import time
import traceback
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, NotFoundError

try:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl

    HAS_PYVMOMI = True
    PYVMOMI_IMPORT_ERROR = None
except ImportError:
    HAS_PYVMOMI = False
    PYVMOMI_IMPORT_ERROR = traceback.format_exc()


# The connection options every vCenter module takes (documented by the netboot.coreos.vcenter fragment).
VCENTER_ARGUMENT_SPEC = dict(
    hostname=dict(type="str", required=True, fallback=(env_fallback, ["VMWARE_HOST"])),
    username=dict(type="str", required=True, aliases=["admin", "user"], fallback=(env_fallback, ["VMWARE_USER"])),
    password=dict(type="str", required=True, no_log=True, aliases=["pass", "pwd"],
                  fallback=(env_fallback, ["VMWARE_PASSWORD"])),
    port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
    proxy_host=dict(type="str", fallback=(env_fallback, ["VMWARE_PROXY_HOST"])),
    proxy_port=dict(type="int", fallback=(env_fallback, ["VMWARE_PROXY_PORT"])),
)


class VCenterError(NetbootError):
    """Any failure talking to vCenter."""


class VCenterConnectionError(VCenterError):
    """vCenter could not be reached, its certificate was rejected, or it refused the login."""


class TaskTimeoutError(VCenterError):
    """vCenter tasks did not finish in time."""


class TaskOutcome:
    """How one vCenter task ended: ``state`` is success or error; ``error`` is the fault's message."""

    __slots__ = ("task", "state", "result", "error")

    def __init__(self, task, state, result=None, error=None):
        self.task = task
        self.state = state
        self.result = result
        self.error = error

    @property
    def ok(self):
        return self.state == "success"


def _fault_text(fault):
    """The human part of a vSphere fault (``msg``, else its localized message, else its type)."""
    text = getattr(fault, "msg", None) or getattr(fault, "localizedMessage", None)
    if not text and getattr(fault, "faultMessage", None):
        text = "; ".join(m.message for m in fault.faultMessage if getattr(m, "message", None))
    return text or type(fault).__name__


def first_device(devices, vimtype):
    """The first device of ``vimtype`` in a VM's device list (``config.hardware.device``), or None."""
    for device in devices or []:
        if isinstance(device, vimtype):
            return device
    return None


def extra_config(options):
    """A VM's ``config.extraConfig`` as a dict: the last entry of a key wins, an empty value means absent."""
    values = {}
    for option in options or []:
        values[option.key] = option.value
    return {k: v for k, v in values.items() if v not in (None, "")}


class VCenterClient:
    """A logged-in vCenter session: lookups, bulk reads, and the one place vSphere calls and task starts go
    through (``call``, ``run_task``), so every fault reaches the user as one VCenterError line."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True, timeout=60,
                 proxy_host=None, proxy_port=None):
        if not HAS_PYVMOMI:
            raise VCenterError("the pyvmomi Python library is required: pip install pyvmomi")
        if proxy_host and not proxy_port:
            raise VCenterError("proxy_host %s needs proxy_port (VMWARE_PROXY_PORT), the port of the HTTP proxy"
                               % proxy_host)
        self.hostname = hostname
        self.proxy_host = proxy_host or None
        self.proxy_port = proxy_port if proxy_host else None
        self.username = username
        self.port = port
        self.validate_certs = validate_certs
        self._password = password
        self._timeout = timeout
        self._si = None
        self._content = None
        self._views = {}
        self._datacenters = None
        self._datacenter_props = {}

    @classmethod
    def from_params(cls, params):
        """Build a client from a module's params (the keys of VCENTER_ARGUMENT_SPEC)."""
        return cls(**{key: params[key] for key in VCENTER_ARGUMENT_SPEC if params.get(key) is not None})

    @property
    def endpoint(self):
        """vCenter's URL as errors name it, with the proxy it is reached through."""
        url = "https://%s:%s" % (self.hostname, self.port)
        if self.proxy_host:
            url += " (through proxy %s:%s)" % (self.proxy_host, self.proxy_port)
        return url

    # -- session ---------------------------------------------------------------------------------------

    def _ssl_context(self):
        """Verifying by default; unverified only when validate_certs is false (labs)."""
        if self.validate_certs:
            return ssl.create_default_context()
        return ssl._create_unverified_context()  # pylint: disable=protected-access

    def connect(self):
        if self._si is not None:
            return self
        context = self._ssl_context()
        try:
            self._si = SmartConnect(host=self.hostname, user=self.username, pwd=self._password, port=self.port,
                                    sslContext=context, connectionPoolTimeout=self._timeout,
                                    httpProxyHost=self.proxy_host, httpProxyPort=self.proxy_port)
        except vim.fault.InvalidLogin:
            raise VCenterConnectionError(
                "vCenter %s rejected the login for user '%s': check username and password "
                "(VMWARE_USER / VMWARE_PASSWORD)" % (self.endpoint, self.username))
        except ssl.SSLCertVerificationError as exc:
            raise VCenterConnectionError(
                "the TLS certificate of vCenter %s could not be verified (%s): add its CA to the system trust "
                "store, or set validate_certs: false (VMWARE_VALIDATE_CERTS=false) for a lab"
                % (self.endpoint, exc.verify_message or exc.reason))
        except ssl.SSLError as exc:
            raise VCenterConnectionError("TLS handshake with vCenter %s failed: %s" % (self.endpoint, exc))
        except (socket.timeout, TimeoutError):
            raise VCenterConnectionError("connecting to vCenter %s timed out after %ss" % (self.endpoint, self._timeout))
        except (OSError, socket.error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise VCenterConnectionError("cannot connect to vCenter %s: %s" % (self.endpoint, reason))
        except vmodl.MethodFault as exc:
            raise VCenterConnectionError("vCenter %s refused the session: %s" % (self.endpoint, _fault_text(exc)))
        return self

    def close(self):
        if self._si is not None:
            try:
                Disconnect(self._si)
            except Exception:  # pylint: disable=broad-except
                pass  # logout is best effort: the session times out on its own
            self._si = None
            self._content = None
            self._views = {}

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc_info):
        self.close()

    @property
    def content(self):
        """The ServiceContent, read once per session (``ServiceInstance.content`` is a round trip per access)."""
        if self._content is None:
            if self._si is None:
                self.connect()
            self._content = self.call("reading the vCenter service content", self._si.RetrieveContent)
        return self._content

    # -- calls -----------------------------------------------------------------------------------------

    def call(self, action, method, *args, **kwargs):
        """One vSphere call (a synchronous method or a task start); a fault becomes '<action> failed: <fault>'."""
        try:
            return method(*args, **kwargs)
        except vmodl.MethodFault as exc:
            raise VCenterError("%s failed: %s" % (action, _fault_text(exc)))
        except (http_client.HTTPException, OSError) as exc:
            # vCenter dropped this call; the session's other calls go on over a new connection
            raise VCenterError("%s failed: connection to vCenter %s lost (%s)"
                               % (action, self.endpoint, exc or type(exc).__name__))

    def run_task(self, action, method, *args, **kwargs):
        """Start a task through ``call`` and wait for it; its result, or VCenterError('<action> failed: ...')."""
        timeout = kwargs.pop("timeout", 600)
        return self.wait_for_task(self.call(action, method, *args, **kwargs), action, timeout)

    # -- bulk reads --------------------------------------------------------------------------------------

    def retrieve(self, vimtypes, properties, root=None):
        """Read ``properties`` of every object of ``vimtypes`` below ``root`` in one PropertyCollector call.

        Returns a list of dicts: ``obj`` (the managed object) plus each requested property that is set
        (unset properties are absent, never fetched lazily). ``properties`` is one list for every type, or
        a dict {vimtype: [property, ...]}. The container view of ``root`` and ``vimtypes`` is made once per
        session and reused (views are session objects: vCenter destroys them at logout).
        """
        if not isinstance(vimtypes, (list, tuple)):
            vimtypes = [vimtypes]
        if not isinstance(properties, dict):
            properties = {t: properties for t in vimtypes}
        view = self._view(root, vimtypes)
        traversal = vmodl.query.PropertyCollector.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView)
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traversal])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=t, pathSet=list(properties[t]), all=False)
                     for t in vimtypes])
        return self._retrieve_all(spec)

    def _view(self, root, vimtypes):
        """A recursive ContainerView of ``vimtypes`` below ``root`` (the root folder when None), one per session."""
        key = (root._moId if root is not None else None, tuple(t.__name__ for t in vimtypes))
        if key not in self._views:
            content = self.content
            self._views[key] = self.call("reading vCenter inventory", content.viewManager.CreateContainerView,
                                         root or content.rootFolder, list(vimtypes), True)
        return self._views[key]

    def retrieve_objects(self, objects, properties):
        """Read ``properties`` of the given managed objects (any mix of types) in one call."""
        if not objects:
            return []
        types = {}
        for obj in objects:
            types.setdefault(type(obj), obj)
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=o, skip=False) for o in objects],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=t, pathSet=list(properties), all=False)
                     for t in types])
        return self._retrieve_all(spec)

    def _retrieve_all(self, spec):
        collector = self.content.propertyCollector
        options = vmodl.query.PropertyCollector.RetrieveOptions()
        rows = []
        result = self.call("reading vCenter properties", collector.RetrievePropertiesEx, [spec], options)
        while result is not None:
            for item in result.objects:
                row = {"obj": item.obj}
                for prop in item.propSet:
                    row[prop.name] = prop.val
                rows.append(row)
            if not result.token:
                break
            result = self.call("reading vCenter properties", collector.ContinueRetrievePropertiesEx, result.token)
        return rows

    # -- lookups -----------------------------------------------------------------------------------------

    DATACENTER_FOLDERS = ("vmFolder", "hostFolder", "datastoreFolder", "networkFolder")

    def datacenters(self):
        """Datacenters by name, read once with their four root folders (no lazy read of ``dc.vmFolder`` later)."""
        if self._datacenters is None:
            rows = self.retrieve(vim.Datacenter, ["name"] + list(self.DATACENTER_FOLDERS))
            self._datacenters = {r["name"]: r["obj"] for r in rows}
            self._datacenter_props = {r["obj"]._moId: r for r in rows}
        return self._datacenters

    def datacenter(self, name):
        datacenters = self.datacenters()
        if name not in datacenters:
            raise NotFoundError("datacenter", name, datacenters)
        return datacenters[name]

    def _datacenter_prop(self, datacenter, prop):
        """``datacenter.<prop>`` from the datacenters' one read (a datacenter from elsewhere is read lazily)."""
        row = self._datacenter_props.get(datacenter._moId)
        if row is None or prop not in row:
            return getattr(datacenter, prop)
        return row[prop]

    def datacenter_name(self, datacenter):
        return self._datacenter_prop(datacenter, "name")

    def datacenter_folder(self, datacenter, folder_type):
        """The datacenter's root folder of ``folder_type`` (vm, host, datastore, network)."""
        return self._datacenter_prop(datacenter, "%sFolder" % folder_type)

    def _by_name(self, kind, vimtype, name, root, where, properties=()):
        """The one ``vimtype`` called ``name`` below ``root``; with ``properties``, its row of them (same read)."""
        rows = self.retrieve(vimtype, ["name"] + list(properties), root)
        matches = [r for r in rows if r.get("name") == name]
        if not matches:
            raise NotFoundError(kind, name, {r["name"] for r in rows if r.get("name")}, where)
        if len(matches) > 1:
            raise VCenterError("%s name '%s' is ambiguous in %s (%d objects): use a unique name"
                               % (kind, name, where, len(matches)))
        return matches[0] if properties else matches[0]["obj"]

    def _in_datacenter(self, datacenter):
        return "datacenter '%s'" % self.datacenter_name(datacenter)

    def find_vm(self, root, name, where, kind="VM", required=False):
        """The one VM or template called ``name`` below ``root`` (None, or NotFoundError when ``required``).

        VMs without a name (left by a failed create) are skipped; two of the same name are a clear error.
        """
        rows = self.retrieve(vim.VirtualMachine, ["name"], root)
        matches = [r["obj"] for r in rows if r.get("name") == name]
        if len(matches) > 1:
            raise VCenterError("%s name '%s' is used by %d VMs in %s (%s): rename or remove the extra ones"
                               % (kind, name, len(matches), where, ", ".join(sorted(m._moId for m in matches))))
        if not matches and required:
            raise NotFoundError(kind, name, {r["name"] for r in rows if r.get("name")}, where)
        return matches[0] if matches else None

    def cluster(self, datacenter, name, properties=()):
        """A cluster by name; with ``properties`` (e.g. resourcePool, host), its row of them from the same read."""
        return self._by_name("cluster", vim.ClusterComputeResource, name, self.datacenter_folder(datacenter, "host"),
                             self._in_datacenter(datacenter), properties)

    def host(self, datacenter, name, properties=()):
        return self._by_name("ESXi host", vim.HostSystem, name, self.datacenter_folder(datacenter, "host"),
                             self._in_datacenter(datacenter), properties)

    def datastore(self, datacenter, name):
        return self._by_name("datastore", vim.Datastore, name, self.datacenter_folder(datacenter, "datastore"),
                             self._in_datacenter(datacenter))

    def network(self, datacenter, name):
        return self._by_name("network", vim.Network, name, self.datacenter_folder(datacenter, "network"),
                             self._in_datacenter(datacenter))

    def resource_pool(self, datacenter, name, cluster=None, cluster_name=None, properties=()):
        """A resource pool by name, inside ``cluster`` when given; ``Resources`` is the cluster's root pool."""
        root = cluster if cluster is not None else self.datacenter_folder(datacenter, "host")
        if cluster is not None:
            where = "cluster '%s'" % (cluster_name or cluster.name)
        else:
            where = self._in_datacenter(datacenter)
        return self._by_name("resource pool", vim.ResourcePool, name, root, where, properties)

    def placement_pool(self, datacenter, cluster=None, resource_pool=None, esxi_hostname=None):
        """The resource pool (and host, if pinned) new VMs go into, from the one placement option given."""
        return self.placement(datacenter, cluster, resource_pool, esxi_hostname)[:2]

    def placement(self, datacenter, cluster=None, resource_pool=None, esxi_hostname=None):
        """``(pool, pinned host or None, hosts)``: where new VMs go, from the one placement option given, and
        the ESXi hosts they may run on (those of the pool's compute resource), in as few reads as possible."""
        if resource_pool:
            parent = self.cluster(datacenter, cluster) if cluster else None
            pool = self.resource_pool(datacenter, resource_pool, parent, cluster, ["owner"])
            owner = pool["owner"]
            hosts = self.retrieve_objects([owner], ["host"])[0].get("host") or []
            return pool["obj"], None, hosts
        if cluster:
            row = self.cluster(datacenter, cluster, ["resourcePool", "host"])
            return row["resourcePool"], None, row.get("host") or []
        if esxi_hostname:
            row = self.host(datacenter, esxi_hostname, ["parent"])
            compute = self.retrieve_objects([row["parent"]], ["resourcePool"])[0]
            return compute["resourcePool"], row["obj"], [row["obj"]]
        rows = self.retrieve(vim.ComputeResource, ["name", "resourcePool", "host"],
                             self.datacenter_folder(datacenter, "host"))
        if len(rows) != 1:
            raise VCenterError(
                "datacenter '%s' has %d compute resources (%s): set cluster, resource_pool or esxi_hostname"
                % (self.datacenter_name(datacenter), len(rows), ", ".join(sorted(r["name"] for r in rows)) or "none"))
        return rows[0]["resourcePool"], None, rows[0].get("host") or []

    def folder(self, datacenter, path, folder_type="vm"):
        """A folder by inventory path: ``/DC0/vm/a/b``, ``vm/a/b`` or ``a/b`` (relative to the type's root).

        All folders of the datacenter are read in one call and the path is resolved in memory.
        """
        root = self.datacenter_folder(datacenter, folder_type)
        dc_name = self.datacenter_name(datacenter)
        parts = [p for p in (path or "").split("/") if p]
        if parts[:1] == [dc_name]:
            parts = parts[1:]
        if parts[:1] == [folder_type]:
            parts = parts[1:]
        if not parts:
            return root
        rows = self.retrieve(vim.Folder, ["name", "parent"], root)
        children = {}
        for row in rows:
            children.setdefault(row["parent"], {})[row["name"]] = row["obj"]
        current, walked = root, []
        for part in parts:
            below = children.get(current, {})
            if part not in below:
                where = "/".join([dc_name, folder_type] + walked)
                raise NotFoundError("folder", part, below, where="'%s'" % where)
            current = below[part]
            walked.append(part)
        return current

    def inventory(self):
        """Everything an operator looks for first, per datacenter, in one PropertyCollector call."""
        types = [vim.Datacenter, vim.ClusterComputeResource, vim.HostSystem, vim.Datastore, vim.Network,
                 vim.Folder, vim.ComputeResource]
        rows = self.retrieve(types, ["name", "parent"])
        by_obj = {r["obj"]: r for r in rows}

        def datacenter_of(obj):
            while obj is not None and not isinstance(obj, vim.Datacenter):
                obj = by_obj.get(obj, {}).get("parent")
            return obj

        kinds = {"clusters": vim.ClusterComputeResource, "hosts": vim.HostSystem,
                 "datastores": vim.Datastore, "networks": vim.Network}
        result = {}
        for row in rows:
            if isinstance(row["obj"], vim.Datacenter):
                result[row["name"]] = {kind: [] for kind in kinds}
        for row in rows:
            dc = datacenter_of(row.get("parent"))
            if dc is None:
                continue
            for kind, vimtype in kinds.items():
                if isinstance(row["obj"], vimtype):
                    result[by_obj[dc]["name"]][kind].append(row["name"])
        for entry in result.values():
            for names in entry.values():
                names.sort()
        return result

    # -- tasks -------------------------------------------------------------------------------------------

    def finished_tasks(self, tasks):
        """One bulk read of ``tasks``: a TaskOutcome for each task that has finished, keyed by task."""
        outcomes = {}
        for row in self.retrieve_objects(tasks, ["info.state", "info.error", "info.result"]):
            state = row.get("info.state")
            if state in ("success", "error"):
                error = row.get("info.error")
                outcomes[row["obj"]] = TaskOutcome(row["obj"], state, row.get("info.result"),
                                                   _fault_text(error) if error is not None else None)
        return outcomes

    def wait_for_tasks(self, tasks, timeout=600, poll=0.05, max_poll=1.0):
        """Wait for many tasks at once (one bulk read per poll); return a TaskOutcome per task, in order.

        Raises TaskTimeoutError naming the tasks still running when ``timeout`` seconds have passed.
        """
        pending = list(tasks)
        outcomes = {}
        deadline = time.monotonic() + timeout
        while pending:
            outcomes.update(self.finished_tasks(pending))
            pending = [t for t in pending if t not in outcomes]
            if not pending:
                break
            if time.monotonic() >= deadline:
                raise TaskTimeoutError("%d vCenter task(s) still running after %ss: %s"
                                       % (len(pending), timeout, ", ".join(t._moId for t in pending)))
            time.sleep(poll)
            poll = min(poll * 2, max_poll)
        return [outcomes[t] for t in tasks]

    def wait_for_task(self, task, action, timeout=600):
        """Wait for one task; raise VCenterError('<action> failed: <fault>') if it failed."""
        outcome = self.wait_for_tasks([task], timeout)[0]
        if not outcome.ok:
            raise VCenterError("%s failed: %s" % (action, outcome.error))
        return outcome.result

    # -- datastore files (the /folder HTTP API, authenticated by the session cookie) ----------------------

    def _datastore_file_request(self, method, datacenter, datastore, path, body=None):
        """One HTTPS request to ``/folder/<path>?dcPath=<dc>&dsName=<ds>``; returns (status, body bytes)."""
        context = self._ssl_context()
        self.connect()
        cookie = self._si._stub.cookie.split(";")[0]  # pylint: disable=protected-access
        url = "/folder/%s?%s" % (quote(path.lstrip("/")), urlencode({"dcPath": datacenter, "dsName": datastore}))
        where = "[%s] %s" % (datastore, path)
        if self.proxy_host:
            connection = http_client.HTTPSConnection(self.proxy_host, self.proxy_port, context=context,
                                                     timeout=self._timeout)
            connection.set_tunnel(self.hostname, self.port)
        else:
            connection = http_client.HTTPSConnection(self.hostname, self.port, context=context,
                                                     timeout=self._timeout)
        try:
            connection.request(method, url, body=body, headers={"Cookie": cookie, "Content-Type": "application/octet-stream"})
            response = connection.getresponse()
            data = response.read()
        except (OSError, http_client.HTTPException) as exc:
            raise VCenterError("%s of datastore file %s on %s failed: %s" % (method, where, self.endpoint, exc))
        finally:
            connection.close()
        return response.status, data

    def datastore_file_digest(self, datacenter, datastore, path):
        """The sha256 hex digest of a datastore file, or None when the file does not exist."""
        status, data = self._datastore_file_request("GET", datacenter, datastore, path)
        if status == 404:
            return None
        if status != 200:
            raise VCenterError("reading datastore file [%s] %s failed: HTTP %d" % (datastore, path, status))
        return hashlib.sha256(data).hexdigest()

    def upload_datastore_file(self, datacenter, datastore, path, data):
        """Write ``data`` (bytes) to ``[datastore] path``, creating its directory first."""
        directory = path.rsplit("/", 1)[0] if "/" in path else ""
        if directory:
            def make_directory():
                try:
                    self.content.fileManager.MakeDirectory(name="[%s] %s" % (datastore, directory),
                                                           datacenter=self.datacenter(datacenter),
                                                           createParentDirectories=True)
                except vim.fault.FileAlreadyExists:
                    pass

            self.call("creating directory [%s] %s" % (datastore, directory), make_directory)
        status = self._datastore_file_request("PUT", datacenter, datastore, path, body=data)[0]
        if status not in (200, 201, 204):
            raise VCenterError("uploading datastore file [%s] %s failed: HTTP %d" % (datastore, path, status))
