#!/bin/sh
# udhcpc event script: print the bound lease as one JSON line and leave the interface alone
[ "$1" = bound ] || exit 0
printf '{"ip": "%s", "boot_file": "%s", "siaddr": "%s", "hostname": "%s", "subnet": "%s", "router": "%s"}\n' \
  "$ip" "$boot_file" "$siaddr" "$hostname" "$subnet" "$router"
