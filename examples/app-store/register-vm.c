/* A short C use of libmembalancer (docs/app-developers.md): registers a
 * VM with the asynchronous API and a main loop, prints what the service
 * made of it; with --remove, unregisters it.
 *
 *   register-vm [--address ADDRESS] NAME PRIORITY
 *   register-vm [--address ADDRESS] --remove NAME
 *
 * Build: cc register-vm.c $(pkg-config --cflags --libs membalancer-1) */
#include <membalancer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    GMainLoop *loop;
    const char *name;
    int status;
} Example;

static void
registered(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Example *example = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerVm) vm =
        membalancer_client_register_vm_finish(MEMBALANCER_CLIENT(source), result, &error);

    if (vm == NULL) {
        if (g_error_matches(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_ALREADY_REGISTERED))
            fprintf(stderr, "%s is already registered\n", example->name);
        else
            fprintf(stderr, "cannot do it: %s\n", error->message);
        example->status = 1;
    } else {
        printf("%s registered at %s, priority %u, at least %" G_GUINT64_FORMAT " MiB\n",
               membalancer_vm_get_name(vm), membalancer_vm_get_object_path(vm),
               membalancer_vm_get_priority(vm), membalancer_vm_get_min_kib(vm) / 1024);
    }
    g_main_loop_quit(example->loop);
}

static void
unregistered(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Example *example = user_data;
    g_autoptr(GError) error = NULL;

    if (!membalancer_client_unregister_vm_finish(MEMBALANCER_CLIENT(source), result, &error)) {
        fprintf(stderr, "cannot do it: %s\n", error->message);
        example->status = 1;
    } else {
        printf("%s unregistered\n", example->name);
    }
    g_main_loop_quit(example->loop);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerClient) client = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    Example example = {loop, NULL, 0};
    const char *address = g_getenv("MEMBALANCER_BUS_ADDRESS");

    if (argc > 2 && strcmp(argv[1], "--address") == 0) {
        address = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        fprintf(stderr,
                "usage: register-vm [--address ADDRESS] NAME PRIORITY | --remove NAME\n");
        return 2;
    }
    client = address != NULL ? membalancer_client_new_for_address_sync(address, NULL, &error)
                             : membalancer_client_new_sync(NULL, &error);
    if (client == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    example.name = strcmp(argv[1], "--remove") == 0 ? argv[2] : argv[1];
    if (strcmp(argv[1], "--remove") == 0)
        membalancer_client_unregister_vm(client, argv[2], NULL, unregistered, &example);
    else
        membalancer_client_register_vm(client, argv[1], (guint)strtoul(argv[2], NULL, 10), 0, 0,
                                       FALSE, NULL, registered, &example);
    g_main_loop_run(loop);
    return example.status;
}
