#!/usr/bin/env bash
# Build govmomi's vCenter simulator from Debian's golang-go + golang-github-vmware-govmomi-dev (GOPATH mode).
# govmomi 0.24.2's PropertyCollector.Fetch indexes Objects[0]/MissingSet[0] unchecked, so fetching an unset
# property (pyVmomi's lazy reads, community.vmware) panics the request: we build from a patched copy.
# Usage: build-vcsim.sh OUTPUT_BINARY   (a vcsim already on PATH is linked instead of building)
set -euo pipefail
out=${1:?usage: build-vcsim.sh OUTPUT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$out")"

if [ -x "$out" ] && [ "$out" -nt "$here/vcsim/main.go" ] && [ "$out" -nt "$0" ]; then
  exit 0
fi
if existing=$(command -v vcsim 2>/dev/null); then
  ln -sf "$existing" "$out"
  echo "using vcsim from PATH: $existing"
  exit 0
fi

src=/usr/share/gocode/src/github.com/vmware/govmomi
[ -d "$src" ] || { echo "build-vcsim: $src missing; apt-get install golang-go golang-github-vmware-govmomi-dev" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/gopath/src/github.com/vmware" "$work/gopath/src/netboot"
cp -a "$src" "$work/gopath/src/github.com/vmware/govmomi"
cp -a "$here/vcsim" "$work/gopath/src/netboot/vcsim"

pc="$work/gopath/src/github.com/vmware/govmomi/simulator/property_collector.go"
python3 - "$pc" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = """	obj := res.(*methods.RetrievePropertiesExBody).Res.Returnval.Objects[0]
	if len(obj.PropSet) == 0 {
		fault := obj.MissingSet[0].Fault"""
new = """	rval := res.(*methods.RetrievePropertiesExBody).Res.Returnval
	if rval == nil || len(rval.Objects) == 0 {
		body.Res = new(internal.FetchResponse)
		return body
	}
	obj := rval.Objects[0]
	if len(obj.PropSet) == 0 {
		if len(obj.MissingSet) == 0 {
			// An unset property: answer empty instead of panicking (fixed upstream after 0.24).
			body.Res = new(internal.FetchResponse)
			return body
		}
		fault := obj.MissingSet[0].Fault"""
if old not in text:
    sys.exit("build-vcsim: PropertyCollector.Fetch does not look like govmomi 0.24.2's; update the patch")
open(path, "w").write(text.replace(old, new))
PY

# 0.24's CloneVM drops the clone's boot order (the source's and CloneSpec.config.bootOptions); vCenter keeps
# the source's and applies the spec's, and the collection sets disk-first there: patch it the same way.
vm="$work/gopath/src/github.com/vmware/govmomi/simulator/virtual_machine.go"
python3 - "$vm" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = """		if req.Spec.Config != nil && req.Spec.Config.DeviceChange != nil {
			clone.configureDevices(&types.VirtualMachineConfigSpec{DeviceChange: req.Spec.Config.DeviceChange})
		}
"""
new = old + """		clone.Config.BootOptions = vm.Config.BootOptions
		if req.Spec.Config != nil && req.Spec.Config.BootOptions != nil {
			clone.Config.BootOptions = req.Spec.Config.BootOptions
		}
"""
if text.count(old) != 1:
    sys.exit("build-vcsim: CloneVM_Task does not look like govmomi 0.24.2's; update the boot order patch")
open(path, "w").write(text.replace(old, new))
PY

export GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-$HOME/.cache/go-build}" GOFLAGS=
go build -o "$out.tmp" netboot/vcsim
mv "$out.tmp" "$out"
echo "built $out"
