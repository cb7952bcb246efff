/* The planner's orders: who is served first, which donor gives first;
 * sorted in place, with no allocation. */
#include "mb-planner-private.h"

#include <string.h>

static uint64_t
rng_next(MbPlanner *planner)
{
    uint64_t x = planner->rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    planner->rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Service order of needy VMs: priority, then the foreground VM, then the
 * larger deficit, then the name. A total order, so every run agrees. */
static int
compare_needy(const MbVm *a, const MbVm *b)
{
    int64_t da, db;

    if (a->settings.priority != b->settings.priority)
        return a->settings.priority > b->settings.priority ? -1 : 1;
    if (a->settings.foreground != b->settings.foreground)
        return a->settings.foreground ? -1 : 1;
    da = deficit_kib(a);
    db = deficit_kib(b);
    if (da != db)
        return da > db ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Elements are pointers or Donors: both fit the buffer. */
#define SORT_ELEM_MAX 32

_Static_assert(sizeof(Donor) <= SORT_ELEM_MAX && sizeof(MbVm *) <= SORT_ELEM_MAX,
               "sort buffer too small");

static void
swap_elems(unsigned char *a, unsigned char *b, size_t size)
{
    unsigned char t[SORT_ELEM_MAX];

    memcpy(t, a, size);
    memcpy(a, b, size);
    memcpy(b, t, size);
}

static void
sift_down(unsigned char *base, size_t size, size_t root, size_t end, CompareFunc cmp)
{
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1;
        size_t top = root;
        if (cmp(base + top * size, base + child * size) < 0)
            top = child;
        if (child + 1 < end && cmp(base + top * size, base + (child + 1) * size) < 0)
            top = child + 1;
        if (top == root)
            return;
        swap_elems(base + root * size, base + top * size, size);
        root = top;
    }
}

void
planner_heap_sort(void *v, size_t n, size_t size, CompareFunc cmp)
{
    unsigned char *base = v;

    for (size_t start = n / 2; start-- > 0;)
        sift_down(base, size, start, n, cmp);
    for (size_t end = n; end-- > 1;) {
        swap_elems(base, base + end * size, size);
        sift_down(base, size, 0, end, cmp);
    }
}

int
planner_compare_needy(const void *a, const void *b)
{
    return compare_needy(*(MbVm *const *)a, *(MbVm *const *)b);
}

/* Donors by surplus, largest first; the name settles ties. */
int
planner_compare_donor(const void *a, const void *b)
{
    const Donor *x = a, *y = b;

    if (x->surplus_kib != y->surplus_kib)
        return x->surplus_kib > y->surplus_kib ? -1 : 1;
    return strcmp(x->vm->name, y->vm->name);
}

void
planner_shuffle_needy(MbPlanner *planner, MbVm **v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next(planner) % i);
        MbVm *tmp = v[i - 1];
        v[i - 1] = v[j];
        v[j] = tmp;
    }
}
