#!/usr/bin/env python3
"""An app store's use of libmembalancer (docs/app-developers.md).

When the store installs an app it registers the app's VM with the memory
balancer, with the QoS class or priority and the memory bounds of the app's
manifest; when it removes the app it unregisters the VM.

    membalancer-app-store.py [--address ADDRESS] install MANIFEST.json
    membalancer-app-store.py [--address ADDRESS] remove MANIFEST.json
    membalancer-app-store.py [--address ADDRESS] list

The service is on the system bus; --address (or MEMBALANCER_BUS_ADDRESS)
names another bus, a test bus for instance. Exit status: 0 done, 1 the
service refused or cannot be reached, 2 a bad manifest or command line.
"""
import argparse
import json
import os
import sys

import gi

gi.require_version("Membalancer", "1")
from gi.repository import GLib, Membalancer  # noqa: E402

# The QoS classes a manifest may name instead of a priority (0 to 100,
# the higher served first when several VMs need memory at once).
QOS_PRIORITIES = {
    "background": 10,
    "standard": 50,
    "interactive": 80,
}
PROG = "membalancer-app-store"


class ManifestError(Exception):
    pass


def read_manifest(path):
    """The manifest's app name, VM name, priority and bounds (KiB)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ManifestError(f"cannot read {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: a manifest is a JSON object")

    def field(name, kind, what, required=False):
        value = data.get(name)
        if value is None:
            if required:
                raise ManifestError(f'{path}: "{name}" is missing ({what})')
            return None
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise ManifestError(f'{path}: "{name}" must be {what}')
        return value

    vm = field("vm", str, "the name of the app's virtual machine, a string", required=True)
    app = field("app", str, "the app's name, a string") or vm
    qos = field("qos", str, "one of " + ", ".join(QOS_PRIORITIES))
    priority = field("priority", int, "a whole number from 0 to 100")
    if qos is not None and priority is not None:
        raise ManifestError(f'{path}: give "qos" or "priority", not both')
    if qos is not None:
        if qos not in QOS_PRIORITIES:
            raise ManifestError(f'{path}: "qos" must be one of {", ".join(QOS_PRIORITIES)}, not "{qos}"')
        priority = QOS_PRIORITIES[qos]
    elif priority is None:
        priority = QOS_PRIORITIES["standard"]
    elif not 0 <= priority <= 100:
        raise ManifestError(f'{path}: "priority" must be from 0 to 100, not {priority}')
    memory = data.get("memory", {})
    if not isinstance(memory, dict):
        raise ManifestError(f'{path}: "memory" must be an object with "min_mib" and "max_mib"')
    bounds = []
    for key in ("min_mib", "max_mib"):
        mib = memory.get(key, 0)
        if not isinstance(mib, int) or isinstance(mib, bool) or mib < 0:
            raise ManifestError(f'{path}: "memory.{key}" must be a whole number of MiB')
        bounds.append(mib * 1024)
    return {"app": app, "vm": vm, "priority": priority, "min_kib": bounds[0],
            "max_kib": bounds[1], "foreground": bool(data.get("foreground", False))}


def explain(error, manifest=None, action="change"):
    """The service's error, as a person wants to read it."""
    app = manifest["app"] if manifest else None
    vm = manifest["vm"] if manifest else None
    if not error.matches(Membalancer.error_quark(), error.code):
        return error.message
    code = Membalancer.Error(error.code)
    if code == Membalancer.Error.NOT_RUNNING:
        return ("the memory balancer service is not running "
                "(start it with: systemctl start membalancer)")
    if code == Membalancer.Error.ACCESS_DENIED:
        return ("this user may not change the memory balancer's settings "
                "(run the app store as root or as a member of the membalancer group)")
    if code == Membalancer.Error.ALREADY_REGISTERED:
        return f"{app} is already installed: its VM {vm} is registered with the memory balancer"
    if code == Membalancer.Error.NO_SUCH_VM:
        if action == "install":
            return (f"this TV has no virtual machine named {vm} "
                    "(check the \"vm\" field of the manifest)")
        return f"{app} is not installed: no VM named {vm} is registered with the memory balancer"
    if code == Membalancer.Error.INVALID_ARGS:
        return f"the memory balancer refused the manifest of {app}: {error.message}"
    if code == Membalancer.Error.UNAVAILABLE:
        return f"the memory balancer cannot do it now ({error.message}); try again in a moment"
    return error.message


def connect(address):
    if address:
        return Membalancer.Client.new_for_address_sync(address, None)
    return Membalancer.Client.new_sync(None)


def mib(kib):
    return f"{kib // 1024} MiB"


def install(client, manifest):
    vm = client.register_vm_sync(manifest["vm"], manifest["priority"], manifest["min_kib"],
                                 manifest["max_kib"], manifest["foreground"], None)
    print(f"Installed {manifest['app']}: VM {vm.props.name} registered with the memory balancer "
          f"(priority {vm.props.priority}, memory {mib(vm.props.min_kib)} to {mib(vm.props.max_kib)})")


def remove(client, manifest):
    client.unregister_vm_sync(manifest["vm"], None)
    print(f"Removed {manifest['app']}: VM {manifest['vm']} is no longer balanced")


def list_vms(client):
    for vm in sorted(client.get_vms(), key=lambda v: v.props.name):
        print(f"{vm.props.name}\tpriority {vm.props.priority}\t{mib(vm.props.allocated_kib)}"
              f"\t{vm.props.state}")


def main(argv):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--address", default=os.environ.get("MEMBALANCER_BUS_ADDRESS"),
                        help="the D-Bus address of the bus the service is on (default: the system bus)")
    parser.add_argument("command", choices=["install", "remove", "list"])
    parser.add_argument("manifest", nargs="?", help="the app's manifest (JSON)")
    args = parser.parse_args(argv)
    manifest = None
    if args.command != "list":
        if args.manifest is None:
            parser.error(f"{args.command} needs the app's manifest")
        try:
            manifest = read_manifest(args.manifest)
        except ManifestError as e:
            print(f"{PROG}: {e}", file=sys.stderr)
            return 2
    what = f"{args.command} {manifest['app']}" if manifest else "list the VMs"
    try:
        client = connect(args.address)
        if args.command == "install":
            install(client, manifest)
        elif args.command == "remove":
            remove(client, manifest)
        else:
            list_vms(client)
    except GLib.Error as e:
        print(f"{PROG}: cannot {what}: {explain(e, manifest, args.command)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
