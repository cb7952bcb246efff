// A short Vala use of libmembalancer through its vapi
// (docs/app-developers.md): the same program as register-vm.c.
//
//   register-vm-vala [--address ADDRESS] NAME PRIORITY
//   register-vm-vala [--address ADDRESS] --remove NAME
//
// Build: valac --pkg membalancer-1 register-vm.vala
int main (string[] args) {
    string? address = Environment.get_variable ("MEMBALANCER_BUS_ADDRESS");
    int first = 1;
    if (args.length > 2 && args[1] == "--address") {
        address = args[2];
        first = 3;
    }
    if (args.length - first != 2) {
        stderr.printf ("usage: register-vm-vala [--address ADDRESS] NAME PRIORITY | --remove NAME\n");
        return 2;
    }
    string name = args[first] == "--remove" ? args[first + 1] : args[first];
    try {
        var client = address != null
            ? new Membalancer.Client.for_address_sync (address, null)
            : new Membalancer.Client.sync (null);
        if (args[first] == "--remove") {
            client.unregister_vm_sync (name, null);
            print ("%s unregistered\n", name);
        } else {
            var vm = client.register_vm_sync (name, (uint) uint64.parse (args[first + 1]),
                                              0, 0, false, null);
            print ("%s registered at %s, priority %u, at least %llu MiB\n", vm.name,
                   vm.object_path, vm.priority, vm.min_kib / 1024);
        }
    } catch (Membalancer.Error.ALREADY_REGISTERED e) {
        stderr.printf ("%s is already registered\n", name);
        return 1;
    } catch (Error e) {
        stderr.printf ("cannot do it: %s\n", e.message);
        return 1;
    }
    return 0;
}
