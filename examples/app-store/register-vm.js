// A short gjs use of libmembalancer (docs/app-developers.md): registers a
// VM, prints what the service made of it, and unregisters it again with
// --remove.
//
//   gjs -m register-vm.js [--address ADDRESS] NAME PRIORITY
//   gjs -m register-vm.js [--address ADDRESS] --remove NAME
import Membalancer from 'gi://Membalancer?version=1';
import GLib from 'gi://GLib';
import System from 'system';

const args = [...ARGV];
let address = GLib.getenv('MEMBALANCER_BUS_ADDRESS');
if (args[0] === '--address') {
    address = args[1];
    args.splice(0, 2);
}

try {
    const client = address
        ? Membalancer.Client.new_for_address_sync(address, null)
        : Membalancer.Client.new_sync(null);
    if (args[0] === '--remove') {
        client.unregister_vm_sync(args[1], null);
        print(`${args[1]} unregistered`);
    } else {
        const vm = client.register_vm_sync(args[0], Number(args[1]), 0, 0, false, null);
        print(`${vm.name} registered at ${vm.object_path}, priority ${vm.priority}, ` +
              `at least ${vm.min_kib / 1024} MiB`);
    }
} catch (e) {
    if (e.matches(Membalancer.error_quark(), Membalancer.Error.ALREADY_REGISTERED))
        printerr(`${args[0]} is already registered`);
    else
        printerr(`cannot do it: ${e.message}`);
    System.exit(1);
}
