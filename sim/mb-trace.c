/* Trace CSV parsing and replay. */
#include "mb-trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define N_FIELDS 10
#define N_FIELDS_PSI 12
/* A trace line longer than this is not one of ours. */
#define LINE_MAX_CHARS 1024

/* One VM's raw rows while parsing. */
typedef struct {
    size_t n, cap;
    uint64_t *t, *total, *aa, *ia, *af, *inf, *in, *out;
} RawSeries;

typedef struct {
    const char *source;
    char *err;
    size_t err_len;
} ParseCtx;

static void fail(const ParseCtx *ctx, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(const ParseCtx *ctx, size_t line, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (ctx->err == NULL || ctx->err_len == 0)
        return;
    if (line > 0)
        snprintf(ctx->err, ctx->err_len, "%s:%zu: %s", ctx->source, line, what);
    else
        snprintf(ctx->err, ctx->err_len, "%s: %s", ctx->source, what);
}

static void
raw_free(RawSeries *raw)
{
    free(raw->t);
    free(raw->total);
    free(raw->aa);
    free(raw->ia);
    free(raw->af);
    free(raw->inf);
    free(raw->in);
    free(raw->out);
    memset(raw, 0, sizeof(*raw));
}

static bool
grow_one(uint64_t **v, size_t cap)
{
    uint64_t *p = realloc(*v, cap * sizeof(**v));

    if (p == NULL)
        return false;
    *v = p;
    return true;
}

static bool
raw_push(RawSeries *raw, const uint64_t row[N_FIELDS])
{
    if (raw->n == raw->cap) {
        size_t cap = raw->cap ? raw->cap * 2 : 64;
        if (!grow_one(&raw->t, cap) || !grow_one(&raw->total, cap) ||
            !grow_one(&raw->aa, cap) || !grow_one(&raw->ia, cap) || !grow_one(&raw->af, cap) ||
            !grow_one(&raw->inf, cap) || !grow_one(&raw->in, cap) || !grow_one(&raw->out, cap))
            return false;
        raw->cap = cap;
    }
    raw->t[raw->n] = row[0];
    raw->total[raw->n] = row[2];
    raw->aa[raw->n] = row[4];
    raw->ia[raw->n] = row[5];
    raw->af[raw->n] = row[6];
    raw->inf[raw->n] = row[7];
    raw->in[raw->n] = row[8];
    raw->out[raw->n] = row[9];
    raw->n++;
    return true;
}

/* A decimal count with nothing around it: no sign, no spaces, no units. */
static bool
parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

static bool
parse_percent(const char *s, double *out)
{
    char *end;
    double v;

    if (*s == '\0')
        return false;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 100.0))
        return false;
    *out = v;
    return true;
}

/* Splits line in place at commas; returns the field count (up to max). */
static size_t
split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;

    for (;;) {
        char *comma = strchr(p, ',');
        if (n < max)
            fields[n] = p;
        n++;
        if (comma == NULL)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static const char *const field_names[N_FIELDS_PSI] = {
    "t",
    "vm",
    "total_kib",
    "free_kib",
    "active_anon_kib",
    "inactive_anon_kib",
    "active_file_kib",
    "inactive_file_kib",
    "pswpin",
    "pswpout",
    "psi_some_avg10",
    "psi_full_avg10",
};

static bool
valid_name(const char *s)
{
    if (*s == '\0' || strlen(s) > MB_VM_NAME_MAX)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
            return false;
    return true;
}

static double
trace_interp(const double *t, const double *v, size_t n, double at)
{
    size_t lo = 0, hi = n - 1;

    if (at <= t[0])
        return v[0];
    if (at >= t[n - 1])
        return v[n - 1];
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return v[lo] + (v[hi] - v[lo]) * (at - t[lo]) / (t[hi] - t[lo]);
}

static void
shape_trace(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const MbTraceVm *vm = wl->data;

    out->anon_kib = trace_interp(vm->t_s, vm->anon_kib, vm->n_points, p);
    out->hot_file_kib = trace_interp(vm->t_s, vm->hot_file_kib, vm->n_points, p);
    out->file_read_kib = trace_interp(vm->t_s, vm->file_read_kib, vm->n_points, p);
    (void)variant;
}

/* Turns one VM's raw rows into the replay series. */
static bool
build_vm(MbTraceVm *vm, const RawSeries *raw)
{
    double ratio_sum = 0.0;
    size_t ratio_n = 0;
    size_t n = raw->n;

    vm->t_s = calloc(n, sizeof(double));
    vm->anon_kib = calloc(n, sizeof(double));
    vm->hot_file_kib = calloc(n, sizeof(double));
    vm->file_read_kib = calloc(n, sizeof(double));
    if (!vm->t_s || !vm->anon_kib || !vm->hot_file_kib || !vm->file_read_kib)
        return false;
    vm->n_points = n;
    vm->first_total_kib = raw->total[0];
    for (size_t i = 0; i < n; i++) {
        uint64_t anon = raw->aa[i] + raw->ia[i];
        uint64_t swapped_pages = raw->out[i] > raw->in[i] ? raw->out[i] - raw->in[i] : 0;
        uint64_t file = raw->af[i] + raw->inf[i];

        vm->t_s[i] = (double)(raw->t[i] - raw->t[0]);
        vm->anon_kib[i] = (double)anon + 4.0 * (double)swapped_pages;
        vm->hot_file_kib[i] = (double)raw->af[i];
        if (i == 0) {
            /* What was cached when recording began was read before. */
            vm->file_read_kib[i] = (double)raw->inf[0];
        } else {
            uint64_t prev = raw->af[i - 1] + raw->inf[i - 1];
            vm->file_read_kib[i] =
                vm->file_read_kib[i - 1] + (file > prev ? (double)(file - prev) : 0.0);
        }
        if (anon > 0) {
            ratio_sum += (double)raw->ia[i] / (double)anon;
            ratio_n++;
        }
    }
    vm->workload.name = vm->name;
    vm->workload.description = "trace replay";
    vm->workload.background = false;
    vm->workload.work_s = n > 1 ? vm->t_s[n - 1] : 1.0;
    vm->workload.touch_kib_per_s = MB_TRACE_TOUCH_KIB_PER_S;
    vm->workload.inactive_anon_ratio = ratio_n ? ratio_sum / (double)ratio_n : 0.0;
    vm->workload.shape = shape_trace;
    vm->workload.data = NULL; /* set once the vms array stops moving */
    return true;
}

void
mb_trace_free(MbTrace *trace)
{
    if (trace == NULL)
        return;
    for (size_t i = 0; i < trace->n_vms; i++) {
        free(trace->vms[i].t_s);
        free(trace->vms[i].anon_kib);
        free(trace->vms[i].hot_file_kib);
        free(trace->vms[i].file_read_kib);
    }
    free(trace->vms);
    free(trace);
}

/* Checks one data row against the VM's previous one. */
static bool
check_row(const ParseCtx *ctx, size_t line, const uint64_t *v, const char *vm,
          const RawSeries *raw)
{
    uint64_t lists = v[3] + v[4] + v[5] + v[6] + v[7];

    if (v[2] == 0) {
        fail(ctx, line, "total_kib is 0");
        return false;
    }
    if (lists > v[2]) {
        fail(ctx, line, "free and LRU lists (%" PRIu64 " KiB) exceed total_kib (%" PRIu64 ")",
             lists, v[2]);
        return false;
    }
    if (raw->n > 0) {
        size_t last = raw->n - 1;
        if (v[0] <= raw->t[last]) {
            fail(ctx, line, "t %" PRIu64 " for vm '%s' does not follow t %" PRIu64, v[0], vm,
                 raw->t[last]);
            return false;
        }
        if (v[8] < raw->in[last] || v[9] < raw->out[last]) {
            fail(ctx, line, "swap counters of vm '%s' go backwards", vm);
            return false;
        }
    }
    return true;
}

typedef struct {
    char names[MB_TRACE_MAX_VMS][MB_VM_NAME_MAX + 1];
    RawSeries raw[MB_TRACE_MAX_VMS];
} ParseState;

static bool
parse_rows(const ParseCtx *ctx, const char *text, size_t len, ParseState *st, size_t *n_vms,
           bool *has_psi, size_t *n_rows)
{
    char buf[LINE_MAX_CHARS + 2];
    size_t pos = 0, line = 0, n_fields = 0;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        char *fields[N_FIELDS_PSI];
        uint64_t v[N_FIELDS];
        size_t got, vm_idx;

        line++;
        if (n > 0 && text[pos + n - 1] == '\r')
            n--;
        if (n > LINE_MAX_CHARS) {
            fail(ctx, line, "line longer than %d characters", LINE_MAX_CHARS);
            return false;
        }
        if (memchr(text + pos, '\0', n) != NULL) {
            fail(ctx, line, "NUL byte in line");
            return false;
        }
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        if (n == 0 || buf[0] == '#')
            continue;

        if (n_fields == 0) {
            if (strcmp(buf, MB_TRACE_HEADER) == 0) {
                n_fields = N_FIELDS;
            } else if (strcmp(buf, MB_TRACE_HEADER_PSI) == 0) {
                n_fields = N_FIELDS_PSI;
                *has_psi = true;
            } else {
                fail(ctx, line,
                     "expected the header '%s' (optionally with "
                     ",psi_some_avg10,psi_full_avg10)",
                     MB_TRACE_HEADER);
                return false;
            }
            continue;
        }

        got = split_fields(buf, fields, N_FIELDS_PSI);
        if (got != n_fields) {
            fail(ctx, line, "expected %zu fields, got %zu", n_fields, got);
            return false;
        }
        for (size_t f = 0; f < n_fields; f++) {
            double pct;
            if (f == 1)
                continue;
            if (f >= N_FIELDS ? !parse_percent(fields[f], &pct)
                              : !parse_count(fields[f], MB_TRACE_MAX_KIB, &v[f])) {
                fail(ctx, line, "%s: '%s' is not %s", field_names[f], fields[f],
                     f >= N_FIELDS ? "a percentage in [0, 100]"
                                   : "a non-negative integer (at most 2^30)");
                return false;
            }
        }
        if (!valid_name(fields[1])) {
            fail(ctx, line, "vm: empty, too long or has control characters");
            return false;
        }

        for (vm_idx = 0; vm_idx < *n_vms; vm_idx++)
            if (strcmp(st->names[vm_idx], fields[1]) == 0)
                break;
        if (vm_idx == *n_vms) {
            if (*n_vms == MB_TRACE_MAX_VMS) {
                fail(ctx, line, "more than %d VMs", MB_TRACE_MAX_VMS);
                return false;
            }
            snprintf(st->names[vm_idx], sizeof(st->names[vm_idx]), "%s", fields[1]);
            (*n_vms)++;
        }
        if (!check_row(ctx, line, v, fields[1], &st->raw[vm_idx]))
            return false;
        if (!raw_push(&st->raw[vm_idx], v)) {
            fail(ctx, line, "out of memory");
            return false;
        }
        (*n_rows)++;
    }
    if (n_fields == 0) {
        fail(ctx, line ? line : 1, "no header");
        return false;
    }
    if (*n_rows == 0) {
        fail(ctx, line ? line : 1, "no samples after the header");
        return false;
    }
    return true;
}

bool
mb_trace_parse(const char *text, size_t len, const char *source, MbTrace **out, char *err,
               size_t err_len)
{
    ParseCtx ctx = {source ? source : "trace", err, err_len};
    ParseState *st = calloc(1, sizeof(*st));
    MbTrace *trace = calloc(1, sizeof(*trace));
    size_t n_vms = 0;
    bool ok = false;

    *out = NULL;
    if (st == NULL || trace == NULL) {
        fail(&ctx, 0, "out of memory");
        goto done;
    }
    if (!parse_rows(&ctx, text, len, st, &n_vms, &trace->has_psi, &trace->n_rows))
        goto done;

    trace->vms = calloc(n_vms, sizeof(*trace->vms));
    if (trace->vms == NULL) {
        fail(&ctx, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_vms; i++) {
        MbTraceVm *vm = &trace->vms[i];
        snprintf(vm->name, sizeof(vm->name), "%s", st->names[i]);
        trace->n_vms++;
        if (!build_vm(vm, &st->raw[i])) {
            fail(&ctx, 0, "out of memory");
            goto done;
        }
        vm->workload.data = vm;
    }
    *out = trace;
    trace = NULL;
    ok = true;

done:
    if (st != NULL) {
        for (size_t i = 0; i < n_vms; i++)
            raw_free(&st->raw[i]);
        free(st);
    }
    mb_trace_free(trace);
    return ok;
}

bool
mb_trace_load(const char *path, MbTrace **out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    bool ok;

    *out = NULL;
    if (f == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return false;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            char *p;
            cap = cap ? cap * 2 : 65536;
            p = realloc(text, cap);
            if (p == NULL) {
                free(text);
                fclose(f);
                snprintf(err, err_len, "%s: out of memory", path);
                return false;
            }
            text = p;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, err_len, "%s: read error", path);
        free(text);
        fclose(f);
        return false;
    }
    fclose(f);
    ok = mb_trace_parse(text ? text : "", len, path, out, err, err_len);
    free(text);
    return ok;
}

void
mb_trace_write_header(FILE *out, bool with_psi)
{
    fprintf(out, "%s\n", with_psi ? MB_TRACE_HEADER_PSI : MB_TRACE_HEADER);
}

void
mb_trace_write_row(FILE *out, unsigned t, const char *vm, const MbSample *s, bool with_psi)
{
    fprintf(out,
            "%u,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
            ",%" PRIu64 ",%" PRIu64,
            t, vm, s->total_kib, s->free_kib, s->active_anon_kib, s->inactive_anon_kib,
            s->active_file_kib, s->inactive_file_kib, s->swap_in_pages, s->swap_out_pages);
    if (with_psi)
        fprintf(out, ",%.2f,%.2f", s->psi_some_avg10, s->psi_full_avg10);
    fputc('\n', out);
}
