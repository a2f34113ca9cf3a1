"""Send one DHCPDISCOVER shaped like a PXE or iPXE client and print every reply as JSON.

busybox udhcpc shows what a client is leased; it cannot show a proxy-DHCP offer, which carries no address.
This probe puts the raw offers on stdout: yiaddr, siaddr, the BOOTP file field and decoded options. With
--boot-server it then does what EFI PXE firmware does with a proxy offer that names no file: it asks the
proxy's boot server on port 4011 (from the interface's own address, as firmware does after the site's DHCP
server gave it one) and adds that answer as "boot_server_reply".
With --router-solicit it sends IPv6 router solicitations instead (one a second, until --timeout) and prints
[{"router": <link-local sender of the first router advertisement>}] or [].
Usage: dhcp_probe.py IFACE [--arch N] [--user-class S] [--vendor-class S] [--timeout SEC] [--boot-server]
       dhcp_probe.py IFACE --router-solicit [--timeout SEC]
"""

import argparse
import fcntl
import json
import os
import socket
import struct
import time

MAGIC = b"\x63\x82\x53\x63"
NAMES = {1: "netmask", 3: "router", 6: "dns", 12: "hostname", 43: "vendor_encap", 51: "lease_time",
         53: "message_type", 54: "server_id", 60: "vendor_class", 66: "tftp_server", 67: "bootfile",
         175: "ipxe_encap"}


def discover(mac, xid, arch, user_class, vendor_class, message_type=1, ciaddr=b""):
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, ciaddr, b"", b"", b"",
                         mac, b"", b"")
    options = [(53, bytes([message_type])), (55, bytes([1, 3, 6, 12, 43, 60, 66, 67, 175]))]
    if arch is not None:
        options.append((93, struct.pack("!H", arch)))
    if vendor_class:
        options.append((60, vendor_class.encode()))
    if user_class:
        options.append((77, user_class.encode()))
    body = b"".join(bytes([code, len(value)]) + value for code, value in options)
    return header + MAGIC + body + b"\xff"


def decode(packet):
    yiaddr, siaddr = packet[16:20], packet[20:24]
    reply = {"yiaddr": socket.inet_ntoa(yiaddr), "siaddr": socket.inet_ntoa(siaddr),
             "file": packet[108:236].split(b"\0", 1)[0].decode(errors="replace"),
             "sname": packet[44:108].split(b"\0", 1)[0].decode(errors="replace"), "options": {}}
    pos = 240
    while pos < len(packet) and packet[pos] != 255:
        if packet[pos] == 0:
            pos += 1
            continue
        code, length = packet[pos], packet[pos + 1]
        value = packet[pos + 2:pos + 2 + length]
        pos += 2 + length
        if code in (1, 3, 6, 54):
            text = ",".join(socket.inet_ntoa(value[i:i + 4]) for i in range(0, len(value), 4))
        elif code in (12, 60, 66, 67):
            text = value.decode(errors="replace")
        elif code == 53:
            text = value[0]
        else:
            text = value.hex()
        reply["options"][NAMES.get(code, str(code))] = text
    return reply


def interface_address(sock, iface):
    """The interface's IPv4 address (SIOCGIFADDR)."""
    request = struct.pack("256s", iface.encode()[:15])
    return fcntl.ioctl(sock.fileno(), 0x8915, request)[20:24]


def receive(sock, xid, timeout):
    replies, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            packet = sock.recv(4096)
        except socket.timeout:
            break
        if len(packet) > 240 and packet[0] == 2 and struct.unpack("!I", packet[4:8])[0] == xid:
            replies.append(decode(packet))
    return replies


def router_solicit(iface, timeout):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)  # RFC 4861: hop limit 255
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # dnsmasq answers once it has built its prefix context, a second or so after it starts: ask again
        sock.sendto(bytes([133, 0, 0, 0, 0, 0, 0, 0]), ("ff02::2", 0, 0, socket.if_nametoindex(iface)))
        sock.settimeout(1)
        try:
            packet, sender = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if packet[0] == 134:
            return [{"router": sender[0].split("%")[0]}]
    return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("iface")
    parser.add_argument("--arch", type=int)
    parser.add_argument("--user-class")
    parser.add_argument("--vendor-class")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--boot-server", action="store_true")
    parser.add_argument("--router-solicit", action="store_true")
    args = parser.parse_args()
    if args.router_solicit:
        print(json.dumps(router_solicit(args.iface, args.timeout)))
        return
    with open("/sys/class/net/%s/address" % args.iface) as handle:
        mac = bytes.fromhex(handle.read().strip().replace(":", ""))
    xid = struct.unpack("!I", os.urandom(4))[0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.iface.encode())
    sock.bind(("", 68))
    sock.sendto(discover(mac, xid, args.arch, args.user_class, args.vendor_class), ("255.255.255.255", 67))
    replies = receive(sock, xid, args.timeout)
    proxy = [r for r in replies if r["yiaddr"] == "0.0.0.0" and not r["file"]]
    if args.boot_server and proxy:
        ciaddr = interface_address(sock, args.iface)
        request = discover(mac, xid, args.arch, args.user_class, args.vendor_class, 3, ciaddr)
        sock.sendto(request, (proxy[0]["options"]["server_id"], 4011))
        answers = receive(sock, xid, args.timeout)
        proxy[0]["boot_server_reply"] = answers[0] if answers else None
    print(json.dumps(replies, sort_keys=True))


if __name__ == "__main__":
    main()
